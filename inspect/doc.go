// Package inspect finds what is really reachable from the internet and
// what Amazon Inspector (v2) knows about it.
package inspect
