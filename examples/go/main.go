// result-gateway from Go, standard library only: store -> wait -> fetch -> 409 on re-store -> 404 -> forget.
//
//	RG_URL=http://127.0.0.1:8080 RG_TOKEN=... go run . [task-id]
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Problem is the application/problem+json body of every 4xx/5xx answer.
type Problem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// ResultView is the part of GET /v1/results/{taskId} this program reads.
type ResultView struct {
	State  string          `json:"state"`
	Result json.RawMessage `json:"result"`
}

type client struct {
	base, token string
	http        *http.Client
}

// call sends one request and decodes a JSON answer (if any) into out; it returns the status.
func (c *client) call(method, path string, body, out any) int {
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		check(err)
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, reader)
	check(err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	check(err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	check(err)
	if out != nil && len(raw) > 0 {
		check(json.Unmarshal(raw, out))
	}
	return res.StatusCode
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func expect(what string, got, want int) {
	if got != want {
		fmt.Fprintf(os.Stderr, "%s: expected %d, got %d\n", what, want, got)
		os.Exit(1)
	}
	fmt.Printf("%s: %d\n", what, got)
}

func main() {
	base := os.Getenv("RG_URL")
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	c := &client{base: strings.TrimRight(base, "/"), token: os.Getenv("RG_TOKEN"), http: &http.Client{Timeout: 30 * time.Second}}
	taskID := fmt.Sprintf("go-%d", time.Now().UnixNano())
	if len(os.Args) > 1 {
		taskID = os.Args[1]
	}
	path := "/v1/results/" + taskID

	expect("store", c.call("PUT", path, map[string]any{"state": "SUCCESS", "result": map[string]int{"sum": 42}}, nil), 200)

	var waited struct {
		ResultView
		TimedOut bool `json:"timedOut"`
	}
	expect("wait", c.call("GET", path+"/wait?timeoutSeconds=5", nil, &waited), 200)
	if waited.State != "SUCCESS" || waited.TimedOut {
		check(fmt.Errorf("wait: %+v", waited))
	}

	var view ResultView
	expect("fetch", c.call("GET", path, nil, &view), 200)
	if string(view.Result) != `{"sum":42}` {
		check(fmt.Errorf("fetch: result %s", view.Result))
	}

	var problem Problem
	expect("re-store", c.call("PUT", path, map[string]any{"state": "FAILURE", "error": map[string]string{"type": "ValueError", "message": "late"}}, &problem), 409)
	if problem.Code != "RG_RESULT_FINAL" {
		check(fmt.Errorf("re-store: %+v", problem))
	}

	expect("unknown task", c.call("GET", path+"-never-stored", nil, &problem), 404)
	if problem.Code != "RG_RESULT_NOT_FOUND" {
		check(fmt.Errorf("unknown task: %+v", problem))
	}

	expect("forget", c.call("DELETE", path, nil, nil), 204)
	fmt.Println("ok")
}
