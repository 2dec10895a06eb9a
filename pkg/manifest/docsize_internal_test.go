package manifest

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// TestDocIsSmall holds what a stream keeps of each document it passes
// through to what the hostile-input bound of docs/cli.md allows. A stream
// of a few hundred KB ("---" lines, or "x" or "[]" documents) holds
// MaxDocuments documents at once, and 16 × its size + 64 MiB must cover
// them with the collector's headroom and the binary's own resident size
// (bench/parse-memory.sh measures that whole). When a Doc was 264 bytes
// (288 as allocated), 100,000 empty documents from 400 KB took policy
// check to 77–79 MiB against a bound of 70.
func TestDocIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(Doc{}); n > 128 {
		t.Errorf("a Doc is %d bytes, want at most 128", n)
	}
	const docs = 20000
	for _, unit := range []string{"---\n", "x\n---\n", "[]\n---\n"} {
		text := strings.Repeat(unit, docs)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s, err := ParseText(text)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		kept := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(len(s.Docs))
		if len(s.Docs) < docs-1 || kept > 150 {
			t.Errorf("%q × %d: %d documents keep %d bytes each, want at most 150", unit, docs, len(s.Docs), kept)
		}
		t.Logf("%q: %d bytes kept a document", unit, kept)
		runtime.KeepAlive(s)
	}
}
