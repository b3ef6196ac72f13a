// Package sqltest checks the X-Ray translation of SQL spans from
// XSAM/otelsql over a real database/sql driver (modernc.org/sqlite, pure
// Go). It is its own module so that neither dependency reaches the users of
// github.com/o11y-go/o11y; it has tests only.
package sqltest
