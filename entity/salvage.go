package entity

import (
	"bytes"
	"encoding/json"
)

// SalvageFields decodes the named fields of a JSON object that may not
// decode as a whole (a value elsewhere nests past encoding/json's depth,
// or the object is cut short): it reads the object token by token (no
// depth limit applies to tokens), decodes each field of fields into its
// pointer, descends into a field whose entry is itself a map of fields,
// and steps over the others. It stops at the first malformed token,
// keeping what it decoded until then. Error records of undecodable bus
// messages use it to find their namespace.
func SalvageFields(payload []byte, fields map[string]any) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	salvageObject(dec, fields)
}

func salvageObject(dec *json.Decoder, fields map[string]any) bool {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		key, _ := tok.(string)
		switch dst := fields[key].(type) {
		case nil:
			if !skipValue(dec) {
				return false
			}
		case map[string]any:
			if !salvageObject(dec, dst) {
				return false
			}
		default:
			if dec.Decode(dst) != nil {
				return false
			}
		}
	}
	_, err := dec.Token()
	return err == nil
}

// skipValue consumes one value of dec; false when it is malformed.
func skipValue(dec *json.Decoder) bool {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return true
		}
	}
}
