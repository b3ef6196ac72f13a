package reqstate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStateInContext(t *testing.T) {
	assert.Nil(t, From(context.Background()))
	assert.Nil(t, From(nil)) //nolint:staticcheck // nil contexts must not panic
	assert.Equal(t, "", RequestID(context.Background()))
	st := &State{RequestID: "r-1"}
	ctx := With(context.Background(), st)
	assert.Same(t, st, From(ctx))
	assert.Equal(t, "r-1", RequestID(ctx))
}
