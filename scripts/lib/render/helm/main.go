// helm-render: what `helm template` prints for one chart directory, for the charts this repository installs
// through Argo CD (the MongoDB operator's mongodb-kubernetes chart). Our own code, written from Helm's and Argo CD's
// source at the versions Argo CD v3.5.1 uses; no Helm binary is needed (README "scripts/lib/render/helm").
//
// Argo CD v3.5.1 runs `helm template <chart> --name-template <release> --namespace <dest ns> --kube-version <v>
// [--values <valuesObject as a file>] [--api-versions …] --include-crds` (argo-cd@v3.5.1:util/helm/cmd.go
// template(), options from reposerver/repository/repository.go helmTemplate()) with Helm 4.2.1
// (argo-cd@v3.5.1:hack/tool-versions.sh helm4_version). This program takes the same inputs:
//
//   helm-render --chart DIR --name NAME --namespace NS [--kube-version v1.28.0] [--values FILE]…
//               [--api-versions GROUP/VERSION]… [--include-crds] [--crds-file FILE]…
//
// --crds-file adds CRD documents printed like a chart's crds/ directory (the packaged chart has helm_chart/crds/;
// the unpacked source this repository reads keeps them in a separate file).
//
// Build (offline, Debian packages): GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-render main.go
// with golang-github-masterminds-sprig-dev (sprig v3.2.3; Helm 4.2.1 pins v3.3.0, which only adds functions this
// chart does not call) and golang-github-ghodss-yaml-dev (the algorithm of sigs.k8s.io/yaml Helm uses).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// VersionSet is .Capabilities.APIVersions (helm@v4.2.1:pkg/chart/common/capabilities.go): Has(apiVersion).
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion is .Capabilities.KubeVersion (same file): Version, Major, Minor, GitVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

// Files is .Files (helm@v4.2.1:pkg/engine/files.go): every non-template file of the chart.
type Files map[string][]byte

func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Get(name string) string      { return string(f[name]) }
func (f Files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// helm@v4.2.1:pkg/engine/funcs.go toYAML / fromYAML / toJSON / fromJSON (sigs.k8s.io/yaml semantics).
func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}
func mustToYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		panic(err)
	}
	return strings.TrimSuffix(string(data), "\n")
}
func fromYAML(str string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}
func fromYAMLArray(str string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(str), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}
func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}
func mustToJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
func fromJSON(str string) map[string]interface{} {
	m := make(map[string]interface{})
	if err := json.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}
func fromJSONArray(str string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(str), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

const recursionMaxNums = 1000

// helm@v4.2.1:pkg/engine/engine.go includeFun.
func includeFun(t *template.Template, includedNames map[string]int) func(string, interface{}) (string, error) {
	return func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if v, ok := includedNames[name]; ok {
			if v > recursionMaxNums {
				return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
			}
			includedNames[name]++
		} else {
			includedNames[name] = 1
		}
		err := t.ExecuteTemplate(&buf, name, data)
		includedNames[name]--
		return buf.String(), err
	}
}

// helm@v4.2.1:pkg/engine/engine.go tplFun (non-strict: missingkey=zero, "<no value>" removed).
func tplFun(parent *template.Template, includedNames map[string]int) func(string, interface{}) (string, error) {
	return func(tpl string, vals interface{}) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", fmt.Errorf("cannot clone template: %w", err)
		}
		t.Option("missingkey=zero")
		t.Funcs(template.FuncMap{"include": includeFun(t, includedNames), "tpl": tplFun(t, includedNames)})
		t, err = t.New(parent.Name()).Parse(tpl)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", tpl, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", tpl, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}

// helm@v4.2.1:pkg/engine/funcs.go funcMap + engine.go initFunMap: sprig's TxtFuncMap without env/expandenv,
// Helm's YAML/JSON functions, include, tpl, required, fail, lookup (no cluster: an empty map, as with
// `helm template`), getHostByName (DNS disabled: "").
func initFunMap(t *template.Template) {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	includedNames := map[string]int{}
	extra := template.FuncMap{
		"toYaml": toYAML, "mustToYaml": mustToYAML, "fromYaml": fromYAML, "fromYamlArray": fromYAMLArray,
		"toJson": toJSON, "mustToJson": mustToJSON, "fromJson": fromJSON, "fromJsonArray": fromJSONArray,
		"include": includeFun(t, includedNames),
		"tpl":     tplFun(t, includedNames),
		"required": func(warn string, val interface{}) (interface{}, error) {
			if val == nil {
				return val, errors.New(warn)
			} else if s, ok := val.(string); ok && s == "" {
				return val, errors.New(warn)
			}
			return val, nil
		},
		"fail":          func(msg string) (string, error) { return "", errors.New(msg) },
		"lookup":        func(string, string, string, string) (map[string]interface{}, error) { return map[string]interface{}{}, nil },
		"getHostByName": func(string) string { return "" },
	}
	for k, v := range extra {
		f[k] = v
	}
	t.Funcs(f)
}

func istable(v interface{}) bool { _, ok := v.(map[string]interface{}); return ok }

// helm@v4.2.1:pkg/cli/values/options.go mergeMaps: later --values files override earlier ones, maps merge.
func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v, ok := v.(map[string]interface{}); ok {
			if bv, ok := out[k]; ok {
				if bv, ok := bv.(map[string]interface{}); ok {
					out[k] = mergeMaps(bv, v)
					continue
				}
			}
		}
		out[k] = v
	}
	return out
}

// helm@v4.2.1:pkg/chart/common/util/coalesce.go cleanNilValues.
func cleanNilValues(m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		} else if sub, ok := v.(map[string]interface{}); ok {
			cleanNilValues(sub)
		}
	}
}

// helm@v4.2.1:pkg/chart/common/util/coalesce.go coalesceValues (one chart, no dependencies, coalescing not
// merging): the user's value wins; a user null removes the chart default; chart-default nulls are dropped.
func coalesceValues(v, chartValues map[string]interface{}) {
	for key, val := range chartValues {
		if value, ok := v[key]; ok {
			if value == nil {
				delete(v, key)
			} else if dest, ok := value.(map[string]interface{}); ok {
				if src, ok := val.(map[string]interface{}); ok {
					cleanNilValues(src)
					coalesceTables(dest, src)
				}
			}
		} else {
			if val == nil {
				continue
			}
			if sub, ok := val.(map[string]interface{}); ok {
				cleanNilValues(sub)
			}
			v[key] = val
		}
	}
}

// helm@v4.2.1:pkg/chart/common/util/coalesce.go coalesceTablesFullKey with merge=false.
func coalesceTables(dst, src map[string]interface{}) map[string]interface{} {
	if src == nil {
		return dst
	}
	if dst == nil {
		return src
	}
	srcOriginalNonNil := map[string]bool{}
	for key, val := range src {
		if val != nil {
			srcOriginalNonNil[key] = true
		}
	}
	for key, val := range dst {
		if val == nil {
			src[key] = nil
		}
	}
	for key, val := range src {
		if dv, ok := dst[key]; ok && dv == nil && srcOriginalNonNil[key] {
			delete(dst, key)
		} else if !ok {
			dst[key] = val
		} else if istable(val) {
			if istable(dv) {
				coalesceTables(dv.(map[string]interface{}), val.(map[string]interface{}))
			} else {
				fmt.Fprintf(os.Stderr, "warning: cannot overwrite table with non table for %s (%v)\n", key, val)
			}
		} else if istable(dv) && val != nil {
			fmt.Fprintf(os.Stderr, "warning: destination for %s is a table. Ignoring non-table value (%v)\n", key, val)
		}
	}
	return dst
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// .Chart: the Chart.yaml metadata under Helm's field names (helm@v4.2.1:pkg/chart/v2/metadata.go).
var chartFields = map[string]string{
	"name": "Name", "home": "Home", "sources": "Sources", "version": "Version", "description": "Description",
	"keywords": "Keywords", "maintainers": "Maintainers", "icon": "Icon", "apiVersion": "APIVersion",
	"condition": "Condition", "tags": "Tags", "appVersion": "AppVersion", "deprecated": "Deprecated",
	"annotations": "Annotations", "kubeVersion": "KubeVersion", "dependencies": "Dependencies", "type": "Type",
}

var docLineRE = regexp.MustCompile(`(?m)^---[ \t]*$`)

var sepRE = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// helm@v4.2.1:pkg/release/v1/util/manifest.go SplitManifests: documents split on "---" lines, empty ones dropped.
func splitManifests(s string) []string {
	var out []string
	for _, d := range sepRE.Split(s, -1) {
		if strings.TrimSpace(d) == "" {
			continue
		}
		out = append(out, strings.TrimSpace(d))
	}
	return out
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "helm-render: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	var valueFiles, apiVersions, crdFiles multi
	chartDir := flag.String("chart", "", "chart directory")
	name := flag.String("name", "", "release name (--name-template)")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.28.0", "Kubernetes version for .Capabilities")
	includeCRDs := flag.Bool("include-crds", false, "print the chart's CRDs first")
	flag.Var(&valueFiles, "values", "values file (repeatable)")
	flag.Var(&apiVersions, "api-versions", "extra API version for .Capabilities (repeatable)")
	flag.Var(&crdFiles, "crds-file", "CRD file printed as the chart's crds/ (repeatable)")
	jsonOut := flag.Bool("json", false, "print a JSON array of {source, object} instead of the YAML stream")
	flag.Parse()
	if *chartDir == "" || *name == "" {
		die("--chart and --name are required")
	}

	meta, err := readYAMLMap(filepath.Join(*chartDir, "Chart.yaml"))
	if err != nil {
		die("%v", err)
	}
	chartName, _ := meta["name"].(string)
	chartMeta := map[string]interface{}{}
	for k, v := range meta {
		if f, ok := chartFields[k]; ok {
			chartMeta[f] = v
		}
	}
	chartValues, err := readYAMLMap(filepath.Join(*chartDir, "values.yaml"))
	if err != nil {
		die("%v", err)
	}
	user := map[string]interface{}{}
	for _, f := range valueFiles {
		m, err := readYAMLMap(f)
		if err != nil {
			die("%v", err)
		}
		user = mergeMaps(user, m)
	}
	coalesceValues(user, chartValues)

	// helm@v4.2.1:pkg/cmd/template.go / install.go: --kube-version parsed with semver; the chart's kubeVersion
	// constraint is checked against it (pkg/action/install.go, chartutil.IsCompatibleRange).
	kv, err := semver.NewVersion(*kubeVersion)
	if err != nil {
		die("invalid --kube-version %q: %v", *kubeVersion, err)
	}
	if c, ok := meta["kubeVersion"].(string); ok && c != "" {
		constraint, err := semver.NewConstraint(c)
		if err != nil {
			die("chart kubeVersion %q: %v", c, err)
		}
		if !constraint.Check(kv) {
			die("chart requires kubeVersion: %s which is incompatible with Kubernetes v%s", c, kv.String())
		}
	}
	// helm@v4.2.1:pkg/chart/common/capabilities.go DefaultVersionSet: the built-in API versions plus --api-versions.
	versions := VersionSet{"v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "apiextensions.k8s.io/v1",
		"networking.k8s.io/v1", "policy/v1", "admissionregistration.k8s.io/v1", "storage.k8s.io/v1", "autoscaling/v2"}
	versions = append(versions, apiVersions...)
	caps := map[string]interface{}{
		"KubeVersion": KubeVersion{Version: "v" + kv.String(), Major: fmt.Sprint(kv.Major()), Minor: fmt.Sprint(kv.Minor()), GitVersion: "v" + kv.String()},
		"APIVersions": versions,
		"HelmVersion": map[string]interface{}{"Version": "v4.2.1"},
	}

	files := Files{}
	templates := map[string]string{}
	err = filepath.WalkDir(*chartDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(*chartDir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			templates[chartName+"/"+rel] = string(data)
		} else if rel != "Chart.yaml" && rel != "values.yaml" {
			files[rel] = data
		}
		return nil
	})
	if err != nil {
		die("%v", err)
	}

	// helm@v4.2.1:pkg/engine/engine.go render: one parent template, files parsed in a fixed order, partials
	// ("_" prefix) not rendered, missingkey=zero and "<no value>" removed.
	t := template.New("gotpl")
	t.Option("missingkey=zero")
	initFunMap(t)
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.New(n).Parse(templates[n]); err != nil {
			die("parse error in %s: %v", n, err)
		}
	}
	var out bytes.Buffer
	if *includeCRDs {
		for _, f := range crdFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				die("%v", err)
			}
			// helm@v4.2.1:pkg/cmd/template.go prints each crds/ file whole; the concatenated file is split back
			// into its documents so each CRD is printed as the file it was in the chart.
			for _, doc := range docLineRE.Split(string(data), -1) {
				if strings.TrimSpace(doc) == "" {
					continue
				}
				doc = strings.TrimSpace(doc)
				fmt.Fprintf(&out, "---\n# Source: %s/crds/%s\n%s\n", chartName, filepath.Base(f), doc)
			}
		}
	}
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".tpl") || strings.HasSuffix(n, ".json")) {
			continue
		}
		vals := map[string]interface{}{
			"Values": user, "Chart": chartMeta, "Capabilities": caps, "Files": files,
			"Release":  map[string]interface{}{"Name": *name, "Namespace": *namespace, "IsUpgrade": false, "IsInstall": true, "Revision": 1, "Service": "Helm"},
			"Template": map[string]interface{}{"Name": n, "BasePath": chartName + "/templates"},
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, n, vals); err != nil {
			die("render error in %s: %v", n, err)
		}
		for _, doc := range splitManifests(strings.ReplaceAll(buf.String(), "<no value>", "")) {
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", n, doc)
		}
	}
	if !*jsonOut {
		os.Stdout.Write(out.Bytes())
		return
	}
	// --json: the same documents as objects (YAML to JSON as sigs.k8s.io/yaml does), for callers that would
	// otherwise parse megabytes of CRD YAML again.
	type doc struct {
		Source string          `json:"source"`
		Object json.RawMessage `json:"object"`
	}
	docs := []doc{}
	for _, part := range docLineRE.Split(out.String(), -1) {
		src := ""
		if m := sourceRE.FindStringSubmatch(part); m != nil {
			src = m[1]
		}
		j, err := yaml.YAMLToJSON([]byte(part))
		if err != nil {
			die("invalid YAML from %s: %v", src, err)
		}
		if string(j) == "null" {
			continue
		}
		docs = append(docs, doc{Source: src, Object: j})
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(docs); err != nil {
		die("%v", err)
	}
}

var sourceRE = regexp.MustCompile(`(?m)^# Source: (.+)$`)
