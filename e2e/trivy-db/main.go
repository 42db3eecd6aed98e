// Command trivy-db writes a tiny, fully synthetic trivy vulnerability
// database (schema v2) for go-dagger-action's end-to-end tests.
//
// The database holds exactly one advisory that the tests control,
// GDA-2026-0001 (HIGH) against the Debian 12 package tzdata, or nothing at
// all with -empty. Optionally it also writes the db.tar.gz that trivy's OCI
// DB artifact carries, and an OCI image layout containing that artifact, so
// it can be pushed to a local registry with
// `crane push <layout> 127.0.0.1:5000/aquasec/trivy-db:2`.
//
// Usage:
//
//	trivy-db [-empty] [-tar db.tar.gz] [-oci layout-dir] <db-dir>
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Values of the planted advisory.
const (
	AdvisoryID    = "GDA-2026-0001"
	AdvisoryTitle = "planted by go-dagger-action's tests"
	AdvisoryDesc  = "Synthetic advisory written by go-dagger-action/e2e/trivy-db. " +
		"It marks every Debian 12 tzdata as vulnerable so that the scan stage has a known finding."
	Platform     = "debian 12" // trivy-db OS bucket: "<ecosystem> <major version>"
	PackageName  = "tzdata"    // looked up by the package's source name
	FixedVersion = "9999a-0+deb12u1"
	SourceID     = "debian" // data-source ID trivy uses for severity selection
	severityHigh = 3        // trivy-db Severity enum: 0 UNKNOWN, 1 LOW, 2 MEDIUM, 3 HIGH, 4 CRITICAL
)

// Media types of trivy's DB OCI artifact.
const (
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeConfig   = "application/vnd.aquasec.trivy.config.v1+json"
	MediaTypeDBLayer  = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
	annotationTitle   = "org.opencontainers.image.title"
	annotationCreated = "org.opencontainers.image.created"
	layerFileName     = "db.tar.gz"
	schemaVersion     = 2
)

// metadata mirrors trivy-db's metadata.json.
type metadata struct {
	Version      int
	NextUpdate   time.Time
	UpdatedAt    time.Time
	DownloadedAt time.Time
}

func main() {
	empty := flag.Bool("empty", false, "write a DB with no advisory (trivy finds nothing)")
	tarPath := flag.String("tar", "", "also write the gzip'ed tar of trivy.db + metadata.json (trivy's DB artifact layer) to this file")
	ociDir := flag.String("oci", "", "also write an OCI image layout holding trivy's DB artifact into this directory")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-empty] [-tar FILE] [-oci DIR] DB_DIR\n", filepath.Base(os.Args[0]))
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *empty, *tarPath, *ociDir); err != nil {
		fmt.Fprintln(os.Stderr, "trivy-db:", err)
		os.Exit(1)
	}
}

func run(dbDir string, empty bool, tarPath, ociDir string) error {
	now := time.Now().UTC().Truncate(time.Second)
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return err
	}
	if err := writeBolt(filepath.Join(dbDir, "trivy.db"), empty); err != nil {
		return fmt.Errorf("trivy.db: %w", err)
	}
	meta := metadata{
		Version:      schemaVersion,
		NextUpdate:   time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC),
		UpdatedAt:    now,
		DownloadedAt: now,
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dbDir, "metadata.json"), append(mb, '\n'), 0o644); err != nil {
		return err
	}
	if tarPath == "" && ociDir == "" {
		return nil
	}

	layer, err := tarGz(dbDir, now, "trivy.db", "metadata.json")
	if err != nil {
		return fmt.Errorf("db.tar.gz: %w", err)
	}
	if tarPath != "" {
		if err := os.WriteFile(tarPath, layer, 0o644); err != nil {
			return err
		}
	}
	if ociDir != "" {
		if err := writeLayout(ociDir, layer, now); err != nil {
			return fmt.Errorf("OCI layout: %w", err)
		}
	}
	return nil
}

// writeBolt creates the bbolt file with the buckets trivy reads:
//
//	"debian 12" / "tzdata" / GDA-2026-0001 -> advisory (FixedVersion, Severity)
//	"data-source" / "debian 12"            -> data source of that bucket
//	"vulnerability" / GDA-2026-0001        -> title, description, severities
//
// The empty variant keeps the (empty) top-level buckets so that every lookup
// simply finds nothing.
func writeBolt(path string, empty bool) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		platform, err := tx.CreateBucketIfNotExists([]byte(Platform))
		if err != nil {
			return err
		}
		dataSource, err := tx.CreateBucketIfNotExists([]byte("data-source"))
		if err != nil {
			return err
		}
		vulns, err := tx.CreateBucketIfNotExists([]byte("vulnerability"))
		if err != nil {
			return err
		}
		if empty {
			return nil
		}

		pkg, err := platform.CreateBucketIfNotExists([]byte(PackageName))
		if err != nil {
			return err
		}
		if err := putJSON(pkg, AdvisoryID, map[string]any{
			"FixedVersion": FixedVersion,
			"Severity":     severityHigh,
		}); err != nil {
			return err
		}
		if err := putJSON(dataSource, Platform, map[string]any{
			"ID":   SourceID,
			"Name": "Debian Security Tracker",
			"URL":  "https://salsa.debian.org/security-tracker-team/security-tracker",
		}); err != nil {
			return err
		}
		return putJSON(vulns, AdvisoryID, map[string]any{
			"Title":          AdvisoryTitle,
			"Description":    AdvisoryDesc,
			"Severity":       "HIGH",
			"VendorSeverity": map[string]int{SourceID: severityHigh},
		})
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// tarGz returns a gzip'ed tar with the named files of dir at its root.
func tarGz(dir string, mtime time.Time, names ...string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Mode:     0o644,
			Size:     int64(len(data)),
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// writeLayout writes an OCI image layout (oci-layout, index.json,
// blobs/sha256/...) with one manifest shaped like the published trivy-db
// artifact: an empty trivy config and a single db.tar.gz layer.
func writeLayout(dir string, layer []byte, created time.Time) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	writeBlob := func(mediaType string, data []byte, ann map[string]string) (descriptor, error) {
		sum := sha256.Sum256(data)
		hexSum := hex.EncodeToString(sum[:])
		if err := os.WriteFile(filepath.Join(blobs, hexSum), data, 0o644); err != nil {
			return descriptor{}, err
		}
		return descriptor{MediaType: mediaType, Digest: "sha256:" + hexSum, Size: int64(len(data)), Annotations: ann}, nil
	}

	config, err := writeBlob(MediaTypeConfig, []byte("{}"), nil)
	if err != nil {
		return err
	}
	layerDesc, err := writeBlob(MediaTypeDBLayer, layer, map[string]string{annotationTitle: layerFileName})
	if err != nil {
		return err
	}
	manifest, err := json.Marshal(struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Config        descriptor        `json:"config"`
		Layers        []descriptor      `json:"layers"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}{
		SchemaVersion: 2,
		MediaType:     MediaTypeManifest,
		Config:        config,
		Layers:        []descriptor{layerDesc},
		Annotations:   map[string]string{annotationCreated: created.Format(time.RFC3339)},
	})
	if err != nil {
		return err
	}
	manifestDesc, err := writeBlob(MediaTypeManifest, manifest, nil)
	if err != nil {
		return err
	}

	index, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}{
		SchemaVersion: 2,
		MediaType:     "application/vnd.oci.image.index.v1+json",
		Manifests:     []descriptor{manifestDesc},
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}
