//go:build race

package sdktest

// raceBuild: the tests run with -race, so the program under test is built with it too.
const raceBuild = true
