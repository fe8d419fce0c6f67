package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSplitExtension(t *testing.T) {
	tests := []struct {
		seg, name string
		ext       extension
	}{
		{"hello.json", "hello", extJSON},
		{"hello.html", "hello", extHTML},
		{"hello.text", "hello", extText},
		{"hello.svg", "hello", extSVG},
		{"hello.http", "hello", extHTTP},
		{"hello", "hello", extHTTP},
		{"hello.xml", "hello.xml", extHTTP},
		{"a.json.json", "a.json", extJSON},
	}
	for _, tt := range tests {
		if name, ext := splitExtension(tt.seg); name != tt.name || ext != tt.ext {
			t.Errorf("splitExtension(%q) = %q, %q; want %q, %q", tt.seg, name, ext, tt.name, tt.ext)
		}
	}
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		raw  string
		code int
		ok   bool
	}{
		{``, 0, true}, {`null`, 0, true}, {`200`, 200, true}, {`"404"`, 404, true}, {`302.0`, 302, true},
		{`200.5`, 0, false}, {`1234`, 0, false}, {`299`, 0, false}, {`100`, 0, false}, {`"x"`, 0, false},
		{`true`, 0, false}, {`{}`, 0, false}, {`-1`, 0, false},
	}
	for _, tt := range tests {
		if code, ok := statusCode(json.RawMessage(tt.raw)); code != tt.code || ok != tt.ok {
			t.Errorf("statusCode(%s) = %d, %v; want %d, %v", tt.raw, code, ok, tt.code, tt.ok)
		}
	}
}

func TestIsBinary(t *testing.T) {
	for mt, want := range map[string]bool{
		"text/plain": false, "text/html": false, "application/json": false, "application/vnd.api+json": false,
		"application/xml": false, "application/atom+xml": false, "application/javascript": false,
		"application/x-www-form-urlencoded": false, "image/png": true, "application/octet-stream": true,
		"application/pdf": true, "image/svg+xml": true, "multipart/form-data": true,
	} {
		if got := isBinary(mt); got != want {
			t.Errorf("isBinary(%s) = %v, want %v", mt, got, want)
		}
	}
}

func TestWriteHTTP(t *testing.T) {
	tests := []struct {
		name       string
		result     string
		wantStatus int
		wantType   string
		wantBody   string
		wantHeader map[string]string
		wantErr    string
	}{
		{"empty", `{}`, 204, "", "", nil, ""},
		{"empty string body", `{"body":"","headers":{"Content-Type":"image/png"}}`, 204, "", "", nil, ""},
		{"text default html", `{"body":"hi"}`, 200, "text/html; charset=UTF-8", "hi", nil, ""},
		{"charset kept", `{"body":"hi","headers":{"content-type":"text/plain; charset=latin1"}}`, 200, "text/plain; charset=latin1", "hi", nil, ""},
		{"binary decoded", `{"body":"AAEC","headers":{"Content-Type":"application/octet-stream"}}`, 200, "application/octet-stream", "\x00\x01\x02", nil, ""},
		{"binary unpadded", `{"body":"AAE","headers":{"Content-Type":"image/gif"}}`, 200, "image/gif", "\x00\x01", nil, ""},
		{"json value", `{"statusCode":201,"body":[1,2]}`, 201, "application/json", "[1,2]", nil, ""},
		{"json family value", `{"body":{"a":1},"headers":{"Content-Type":"application/problem+json"}}`, 200, "application/problem+json; charset=UTF-8", `{"a":1}`, nil, ""},
		{"headers", `{"headers":{"X-A":["1","2"],"X-B":false,"Content-Length":"99"},"body":"x"}`, 200, "text/html; charset=UTF-8", "x", map[string]string{"X-A": "1", "X-B": "false", "Content-Length": "1"}, ""},
		{"not an object", `[1]`, 0, "", "", nil, "Response is not valid 'message/http'."},
		{"header object value", `{"headers":{"X":{"a":1}}}`, 0, "", "", nil, "Response is not valid 'message/http'."},
		{"header bad name", `{"headers":{"X Y":"1"}}`, 0, "", "", nil, "Response is not valid 'message/http'."},
		{"status object", `{"statusCode":{}}`, 0, "", "", nil, "Response is not valid 'message/http'."},
		{"bad base64", `{"body":"@@","headers":{"Content-Type":"image/png"}}`, 0, "", "", nil, msgContentTypeMismatch},
		{"unknown type", `{"body":"x","headers":{"Content-Type":"/"}}`, 0, "", "", nil, msgUnknownContentType},
		{"json with text type", `{"body":true,"headers":{"Content-Type":"text/plain"}}`, 0, "", "", nil, msgContentTypeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			err := writeHTTP(w, json.RawMessage(tt.result))
			if tt.wantErr != "" {
				var ae *apiError
				if !errors.As(err, &ae) || ae.status != http.StatusBadRequest || ae.msg != tt.wantErr {
					t.Fatalf("err = %v, want 400 %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Code != tt.wantStatus || w.Header().Get("Content-Type") != tt.wantType || w.Body.String() != tt.wantBody {
				t.Fatalf("= %d %q %q, want %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body, tt.wantStatus, tt.wantType, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := w.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestWebArguments(t *testing.T) {
	tests := []struct {
		name, query, contentType, body string
		raw                            bool
		want                           map[string]any // selected arguments
		wantErr                        bool
	}{
		{"query", "a=1&b=2", "", "", false, map[string]any{"a": "1", "b": "2"}, false},
		{"json object", "a=1", "application/json", `{"a":2}`, false, map[string]any{"a": 2.0}, false},
		{"json string", "", "application/json", `"s"`, false, map[string]any{"__ow_body": "s"}, false},
		{"json family", "", "application/vnd.x+json; charset=utf-8", `{"k":true}`, false, map[string]any{"k": true}, false},
		{"form", "", "application/x-www-form-urlencoded", "a=1&a=2&b=", false, map[string]any{"a": "1", "b": ""}, false},
		{"no type", "", "", "\x00\x01", false, map[string]any{"__ow_body": "AAE="}, false},
		{"xml is text", "", "application/xml", "<a/>", false, map[string]any{"__ow_body": "<a/>"}, false},
		{"raw json", "x=1", "application/json", `{}`, true, map[string]any{"__ow_body": "e30=", "__ow_query": "x=1"}, false},
		{"raw empty", "", "", "", true, map[string]any{"__ow_body": "", "__ow_query": ""}, false},
		{"malformed json", "", "application/json", `{`, false, nil, true},
		{"too deep object", "", "application/json", `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, false, nil, true},
		{"too deep array", "", "application/json", strings.Repeat("[", 9_999) + strings.Repeat("]", 9_999), false, nil, true},
		{"malformed type", "", "text/", `x`, false, nil, true},
		{"malformed form", "", "application/x-www-form-urlencoded", `%`, false, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/x?"+tt.query, strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			args, err := webArguments(r, []byte(tt.body), tt.raw, "", nil)
			if tt.wantErr {
				if err == nil || errorStatus(err) != http.StatusBadRequest {
					t.Fatalf("err = %v, want a 400", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(args.params().Object(), &got); err != nil {
				t.Fatal(err)
			}
			if got["__ow_method"] != "post" {
				t.Errorf("__ow_method = %v", got["__ow_method"])
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %#v (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// errorStatus is the status writeError would answer err with.
func errorStatus(err error) int {
	rec := httptest.NewRecorder()
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.writeError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
	return rec.Code
}

func FuzzWebArguments(f *testing.F) {
	f.Add("a=1", "application/json", `{"a":2}`, false)
	f.Add("", "application/x-www-form-urlencoded", "a=%zz", false)
	f.Add("q", "text/plain; charset=utf-8", "x", true)
	f.Add("", "multipart/form-data; boundary=x", "--x--", false)
	f.Fuzz(func(t *testing.T, query, contentType, body string, raw bool) {
		r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		args, err := webArguments(r, []byte(body), raw, "", nil)
		if err != nil {
			if s := errorStatus(err); s != http.StatusBadRequest {
				t.Fatalf("error %v answers %d", err, s)
			}
			return
		}
		if !json.Valid(args.params().Object()) {
			t.Fatalf("arguments are not JSON: %s", args.params().Object())
		}
	})
}

func FuzzWriteHTTP(f *testing.F) {
	f.Add(`{"statusCode":200,"headers":{"a":"b"},"body":"x"}`)
	f.Add(`{"headers":{"Content-Type":"image/png"},"body":"AAEC"}`)
	f.Add(`{"body":{"a":[1]}}`)
	f.Fuzz(func(t *testing.T, result string) {
		if !json.Valid([]byte(result)) {
			return
		}
		w := httptest.NewRecorder()
		if err := writeHTTP(w, json.RawMessage(result)); err != nil {
			if s := errorStatus(err); s != http.StatusBadRequest {
				t.Fatalf("error %v answers %d", err, s)
			}
		}
	})
}

func TestWebActionWithoutInvoker(t *testing.T) {
	f := newFixture(t)
	put := `{"exec":{"kind":"nodejs:20","code":"function main(){}"},"annotations":[{"key":"web-export","value":true}]}`
	if status, body, _ := f.do(t, http.MethodPut, "/api/v1/namespaces/_/actions/w", put, &f.auth); status != http.StatusOK {
		t.Fatalf("put = %d %v", status, body)
	}
	if status, body, _ := f.do(t, http.MethodPut, "/api/v1/namespaces/_/actions/plain", `{"exec":{"kind":"nodejs:20","code":"x"}}`, &f.auth); status != http.StatusOK {
		t.Fatalf("put = %d %v", status, body)
	}
	tests := []struct {
		path string
		want int
	}{
		{"/api/v1/web/me/default/w.json", http.StatusServiceUnavailable}, // found, but nothing runs it
		{"/api/v1/web/me/default/plain.json", http.StatusNotFound},
		{"/api/v1/web/me/default/w.json/../x", http.StatusBadRequest}, // never redirected
		{"/api/v1/web/me/w.json", http.StatusNotFound},
	}
	for _, tt := range tests {
		if status, body, _ := f.do(t, http.MethodGet, tt.path, "", nil); status != tt.want {
			t.Errorf("GET %s = %d %v, want %d", tt.path, status, body, tt.want)
		}
	}
}
