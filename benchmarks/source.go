package main

import (
	"os/exec"
	"strings"
)

// Source says which code a run measured: the commit of the repository the
// benchmarks module sits in (it builds Echo from ../ through a replace
// directive) and whether the work tree had uncommitted changes, which the
// commit alone would not show.
type Source struct {
	Commit string `json:"commit"` // "unknown" outside a git work tree
	Dirty  bool   `json:"dirty"`
}

func thisSource() Source {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return Source{Commit: "unknown"}
	}
	src := Source{Commit: strings.TrimSpace(string(out))}
	// The results files are left out: a run that writes them with a shell
	// redirect has truncated its own output file before it starts, which
	// would mark every such run dirty.
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no",
		"--", ":(top)", ":(top,exclude)benchmarks/results").Output(); err == nil {
		src.Dirty = len(strings.TrimSpace(string(st))) > 0
	}
	return src
}

func (s Source) String() string {
	if s.Dirty {
		return s.Commit + " (with uncommitted changes)"
	}
	return s.Commit
}
