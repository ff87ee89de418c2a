package keyrotate

// IsUserARN exposes isUserARN to the external tests.
var IsUserARN = isUserARN
