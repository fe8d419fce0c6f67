// Package redact hides credentials in URLs before they reach a log, an
// error or a usage message. URL is the one helper every package uses for
// that; Wrap keeps an error's chain while hiding a URL its text may echo.
// It does not find secrets in free text: callers pass the URL they hold.
package redact
