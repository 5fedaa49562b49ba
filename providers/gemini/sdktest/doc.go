// Package sdktest checks the Gemini front-door codec against the official Go SDK,
// google.golang.org/genai: the SDK talks to an in-process server that decodes its requests with
// gemini.DecodeRequest and answers with gemini.EncodeResponse / gemini.StreamEncoder. It lives in
// its own package because the SDK is slow to compile.
package sdktest
