package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aigateway/ai-gateway/providers/jsonscan"
)

// stripSchemaKeyword removes the root "$schema" keyword from a JSON Schema. Gemini's
// parametersJsonSchema and responseJsonSchema accept JSON Schema but reject a "$schema" member,
// which agents such as opencode put on every tool. Nothing else changes: keywords like
// exclusiveMinimum and ±2^53 bounds are valid there and are kept byte for byte.
func stripSchemaKeyword(schema json.RawMessage) json.RawMessage {
	if !bytes.Contains(schema, []byte(`"$schema"`)) {
		return schema
	}
	o, err := jsonscan.ParseObject(schema)
	if err != nil || !o.Del("$schema") {
		return schema
	}
	return o.Bytes()
}

// orderedObject is a JSON object that keeps its member order when re-encoded (property order
// matters to a model reading a schema).
type orderedObject []orderedMember

type orderedMember struct {
	Key   string
	Value any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.Key)
		b = append(b, ':')
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

func (o orderedObject) get(key string) (any, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// decodeOrdered decodes one JSON value, objects as orderedObject and numbers as json.Number.
func decodeOrdered(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrderedValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the schema")
	}
	return v, nil
}

// maxSchemaDepth bounds recursion on hostile input.
const maxSchemaDepth = 200

func decodeOrderedValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("schema nested deeper than %d levels", maxSchemaDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := orderedObject{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := decodeOrderedValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj = append(obj, orderedMember{Key: key, Value: v})
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeOrderedValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// schemaKeywordCamel maps the snake_case spellings of Gemini Schema keywords to camelCase.
func schemaKeywordCamel(key string) string {
	switch key {
	case "any_of":
		return "anyOf"
	case "property_ordering":
		return "propertyOrdering"
	case "min_items":
		return "minItems"
	case "max_items":
		return "maxItems"
	case "min_length":
		return "minLength"
	case "max_length":
		return "maxLength"
	case "min_properties":
		return "minProperties"
	case "max_properties":
		return "maxProperties"
	}
	return key
}

// openAPIToJSONSchema converts a Gemini Schema (the OpenAPI 3.0 subset of functionDeclarations[].parameters
// and responseSchema: upper-case types, nullable, propertyOrdering, int64 limits as strings) into the
// JSON Schema the other protocols expect: lower-case types, nullable as a "null" type, numeric limits.
func openAPIToJSONSchema(raw json.RawMessage) (json.RawMessage, error) {
	v, err := decodeOrdered(raw)
	if err != nil {
		return nil, err
	}
	return json.Marshal(convertSchema(v))
}

func convertSchema(v any) any {
	obj, ok := v.(orderedObject)
	if !ok {
		return v
	}
	out := make(orderedObject, 0, len(obj))
	nullable := false
	for _, m := range obj {
		key := schemaKeywordCamel(m.Key)
		val := m.Value
		switch key {
		case "type":
			if s, ok := val.(string); ok {
				s = strings.ToLower(s)
				if s == "" || s == "type_unspecified" {
					continue
				}
				val = s
			}
		case "nullable":
			if b, ok := val.(bool); ok && b {
				nullable = true
			}
			continue
		case "propertyOrdering":
			continue
		case "properties", "$defs", "definitions":
			if props, ok := val.(orderedObject); ok {
				conv := make(orderedObject, len(props))
				for i, p := range props {
					conv[i] = orderedMember{Key: p.Key, Value: convertSchema(p.Value)}
				}
				val = conv
			}
		case "items", "not", "additionalProperties":
			val = convertSchema(val)
		case "anyOf", "oneOf", "allOf":
			if arr, ok := val.([]any); ok {
				conv := make([]any, len(arr))
				for i, a := range arr {
					conv[i] = convertSchema(a)
				}
				val = conv
			}
		case "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties":
			if s, ok := val.(string); ok {
				val = json.Number(s)
				if _, err := val.(json.Number).Int64(); err != nil {
					continue
				}
			}
		}
		out = append(out, orderedMember{Key: key, Value: val})
	}
	if nullable {
		for i, m := range out {
			if m.Key == "type" {
				if s, ok := m.Value.(string); ok && s != "null" {
					out[i].Value = []any{s, "null"}
				}
			}
		}
	}
	return out
}
