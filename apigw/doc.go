// Package apigw is Wisp's built-in API gateway model: a namespace's API
// definitions (base path, routes of relative path and method to a web
// action, CORS, client ids, rate limit), their import from and export to
// Swagger 2 as OpenWhisk's apimgmt actions write it (x-openwhisk,
// x-ibm-configuration), the routing table that matches a request path and
// method with its path parameters, and the store documents that hold it.
//
// It neither serves HTTP nor invokes actions (package api does both) and
// does not check that a target is a web action (api does, through the
// resolver). Main types: Table (one namespace's APIs) and Repo.
package apigw
