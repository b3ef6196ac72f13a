package reqstate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStateInContext(t *testing.T) {
	assert.Nil(t, From(context.Background()))
	//lint:ignore SA1012 nil contexts must not panic
	assert.Nil(t, From(nil))
	assert.Equal(t, "", RequestID(context.Background()))
	st := &State{RequestID: "r-1"}
	ctx := With(context.Background(), st)
	assert.Same(t, st, From(ctx))
	assert.Equal(t, "r-1", RequestID(ctx))
}

func TestContextCarriesState(t *testing.T) {
	type other struct{}
	st := &State{RequestID: "r-2"}
	parent := context.WithValue(context.Background(), other{}, "v")
	c := &Context{Context: parent, State: st}
	assert.Same(t, st, From(c))
	assert.Equal(t, "r-2", RequestID(c))
	assert.Equal(t, "v", c.Value(other{}), "other keys reach the parent")
	assert.Same(t, st, c.Value(Key))
	// A context derived from it still finds the state, and cancellation
	// propagates through it.
	ctx, cancel := context.WithCancel(c)
	assert.Same(t, st, From(ctx))
	cancel()
	<-ctx.Done()
}
