// Renders Go text/templates the way Argo CD Notifications does (argoproj/notifications-engine
// pkg/templates/service.go: text/template with sprig.TxtFuncMap() minus "env" and "expandenv"; each
// template field parsed with texttemplate.New(name).Funcs(f).Parse, pkg/services/github.go).
// Built in GOPATH mode against Debian's golang-github-masterminds-sprig-dev (sprig v3.2.3, import path
// without /v3); Argo CD v3.5.1 pins sprig v3.3.0.
// stdin: {"templates": {"<key>": "<template text>"}, "vars": {...}}
// stdout: {"<key>": {"out": "...", "err": "..."}}
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"text/template"

	sprig "github.com/Masterminds/sprig"
)

type input struct {
	Templates map[string]string      `json:"templates"`
	Vars      map[string]interface{} `json:"vars"`
}

type result struct {
	Out string `json:"out"`
	Err string `json:"err,omitempty"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(2)
	}
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	out := map[string]result{}
	for key, text := range in.Templates {
		t, err := template.New(key).Funcs(f).Parse(text)
		if err != nil {
			out[key] = result{Err: err.Error()}
			continue
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, in.Vars); err != nil {
			out[key] = result{Err: err.Error()}
			continue
		}
		out[key] = result{Out: buf.String()}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
