// Verifies a result-gateway webhook (Standard Webhooks) with the standard library only.
//
// Verify is the part to copy. Run as a program it reads {"secret", "headers", "body"} as JSON on stdin and prints
// "valid" (exit 0) or the reason (exit 1): test/contract/webhook-verifiers.test.ts runs it.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Verify checks the webhook-signature of one delivery against the secret (whsec_...), and that its
// webhook-timestamp is within five minutes of now.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || math.Abs(now.Sub(time.Unix(sec, 0)).Seconds()) > 300 {
		return errors.New("timestamp missing or outside the tolerance")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	expected := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, entry := range strings.Split(h.Get("webhook-signature"), " ") {
		if v, sig, ok := strings.Cut(entry, ","); ok && v == "v1" && hmac.Equal([]byte(sig), []byte(expected)) {
			return nil
		}
	}
	return errors.New("no matching v1 signature")
}

func main() {
	var req struct {
		Secret  string            `json:"secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Println("invalid:", err)
		os.Exit(1)
	}
	h := http.Header{}
	for k, v := range req.Headers {
		h.Set(k, v)
	}
	if err := Verify(req.Secret, h, []byte(req.Body), time.Now()); err != nil {
		fmt.Println("invalid:", err)
		os.Exit(1)
	}
	fmt.Println("valid")
}
