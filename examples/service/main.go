// A small HTTP service with real dependencies (a router, a CLI, structured logs and metrics), for
// measuring the pipeline on more than a single-file module.
package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

var greetings = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "service_greetings_total",
	Help: "Greetings served, by name.",
}, []string{"name"})

// Router serves /hello/{name} and /metrics.
func Router(logger *zap.Logger, registry *prometheus.Registry) http.Handler {
	r := chi.NewRouter()
	r.Get("/hello/{name}", func(w http.ResponseWriter, req *http.Request) {
		name := chi.URLParam(req, "name")
		greetings.WithLabelValues(name).Inc()
		logger.Info("greeted", zap.String("name", name))
		fmt.Fprintf(w, "hello, %s\n", name)
	})
	r.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	return r
}

func main() {
	var addr string
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Serves greetings and their metrics",
		RunE: func(*cobra.Command, []string) error {
			logger, err := zap.NewProduction()
			if err != nil {
				return err
			}
			defer logger.Sync() //nolint:errcheck
			registry := prometheus.NewRegistry()
			registry.MustRegister(greetings)
			logger.Info("listening", zap.String("addr", addr))
			return http.ListenAndServe(addr, Router(logger, registry))
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8080", "listen address")
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
