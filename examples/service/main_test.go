package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

func TestHelloCountsGreetings(t *testing.T) {
	registry := prometheus.NewRegistry()
	registry.MustRegister(greetings)
	server := httptest.NewServer(Router(zap.NewNop(), registry))
	defer server.Close()

	for range 2 {
		resp, err := http.Get(server.URL + "/hello/gopher")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello, gopher\n" {
			t.Fatalf("body %q", body)
		}
	}
	resp, err := http.Get(server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(metrics), `service_greetings_total{name="gopher"} 2`) {
		t.Fatalf("metrics do not count the greetings:\n%s", metrics)
	}
}
