// Command pipeline is the errgroup pipeline pattern written with Echo: one
// child walks a directory tree and sends file paths down a channel, a bounded
// number of children digest the files in parallel, and the body collects the
// digests. The first error cancels every stage; Wait joins them all.
//
//	go run ./examples/pipeline            # digests the files under the current directory
//	go run ./examples/pipeline -root DIR
package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/echo-scheduler/echo"
)

type result struct {
	path string
	size int64
	sum  [sha256.Size]byte
}

func main() {
	root := flag.String("root", ".", "directory tree to digest")
	workers := flag.Int("digesters", runtime.GOMAXPROCS(0), "files digested at once")
	flag.Parse()

	start := time.Now()
	results, err := digestAll(context.Background(), *root, *workers)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		os.Exit(1)
	}
	slices.SortFunc(results, func(a, b result) int { return cmp.Compare(b.size, a.size) })
	var total int64
	for _, r := range results {
		total += r.size
	}
	fmt.Printf("digested %d files (%d KiB) under %s with %d digesters in %v\n",
		len(results), total/1024, *root, *workers, time.Since(start).Round(time.Millisecond))
	fmt.Println("largest files:")
	for _, r := range results[:min(5, len(results))] {
		rel, _ := filepath.Rel(*root, r.path)
		fmt.Printf("  %x  %7d  %s\n", r.sum[:8], r.size, rel)
	}
}

// digestAll returns the SHA-256 of every regular file under root.
func digestAll(ctx context.Context, root string, digesters int) ([]result, error) {
	var out []result
	err := echo.Nursery(ctx, func(ctx context.Context) error {
		paths := make(chan string)
		// Stage 1: walk the tree. Closing paths tells the digesters to stop.
		echo.Go(ctx, echo.Normal, func(ctx context.Context) error {
			defer close(paths)
			return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				select {
				case paths <- path:
					return nil
				case <-ctx.Done():
					return context.Cause(ctx)
				}
			})
		})
		// Stage 2: a bounded number of digesters.
		results := make(chan result)
		digested := make(chan struct{})
		echo.Go(ctx, echo.Normal, func(ctx context.Context) error {
			defer close(digested)
			return echo.Nursery(ctx, func(ctx context.Context) error {
				for range digesters {
					echo.Go(ctx, echo.Normal, func(ctx context.Context) error {
						for path := range paths {
							r, err := digest(path)
							if err != nil {
								return err
							}
							select {
							case results <- r:
							case <-ctx.Done():
								return context.Cause(ctx)
							}
						}
						return nil
					})
				}
				return nil
			})
		})
		// Stage 3 is the body itself: collect until the digesters are done.
		for {
			select {
			case r := <-results:
				out = append(out, r)
			case <-digested:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
	})
	return out, err
}

func digest(path string) (result, error) {
	f, err := os.Open(path)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return result{}, err
	}
	r := result{path: path, size: n}
	h.Sum(r.sum[:0])
	return r, nil
}
