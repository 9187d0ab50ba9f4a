// Package demo is the app that `entraweb demo` serves: a small site that
// shows everything entraweb does, against the in-process emulator or a real
// tenant.
//
// The pages are server-rendered with html/template; their CSS and scripts
// are embedded and served by the app itself, so nothing loads from a CDN
// and the Content-Security-Policy allows no inline script. The site has:
//
//   - a home page with the signed-in user, their roles (as assigned and as
//     expanded through the hierarchy), their groups and the versions of
//     entraweb and MSAL Go; signed out, it lists the emulator's accounts;
//   - Read, Write and Admin pages, each behind RequireRole, so the role
//     hierarchy is visible and a user without a role meets the 403 page;
//   - a profile page read from Microsoft Graph's /v1.0/me with the user's
//     access token;
//   - a dashboard mounted under /dash/ as a separate http.Handler and
//     protected as a whole by its prefix, as the Flask blueprint this
//     project grew from protected a Plotly Dash app. Like a Dash app it has
//     a navbar with the user's name (and a sign-out), filters (a range of
//     months, a grouping) and two charts and a table drawn in the browser
//     from a protected JSON endpoint, which checks the filters and answers
//     a bad one with 400 JSON. When the session ends, that endpoint
//     answers 401 JSON and the page signs the user in again and comes
//     back, filters included. Its figures are made up but deterministic,
//     and its clock is Options.Now, so tests and screenshots can fix it.
package demo
