package web

import (
	"context"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestPageInChromium renders the page in headless Chromium (Debian's
// chromium package, which .ci/run installs) and checks the screenshot: the
// right size, mostly drawn, with the charts' colours present.
func TestPageInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium; .ci/run installs it): skipping the browser check")
	}
	srv := httptest.NewServer(newHandler(t))
	defer srv.Close()
	dir := t.TempDir()
	shot := filepath.Join(dir, "kpi.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--window-size=1200,1400", "--screenshot="+shot,
		srv.URL+"/?token=s3cret-token")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 1400 {
		t.Errorf("screenshot is %dx%d; want 1200x1400", b.Dx(), b.Dy())
	}
	drawn, blue, orange, dark := 0, 0, 0, 0
	forEach(img, func(r, g, b uint8) {
		if !(r > 240 && g > 240 && b > 240) && !(r == 0xf6 && g == 0xf7 && b == 0xf9) {
			drawn++
		}
		switch {
		case near(r, 0x2f) && near(g, 0x6f) && near(b, 0xdf):
			blue++
		case near(r, 0xe8) && near(g, 0x83) && near(b, 0x3a):
			orange++
		case near(r, 0x1d) && near(g, 0x23) && near(b, 0x30):
			dark++
		}
	})
	t.Logf("pixels: %d drawn, %d line blue, %d bar orange, %d header", drawn, blue, orange, dark)
	if drawn < 20000 {
		t.Errorf("the page looks blank: only %d drawn pixels", drawn)
	}
	if blue < 100 || orange < 500 || dark < 10000 {
		t.Errorf("charts or header missing: %d blue, %d orange, %d dark pixels", blue, orange, dark)
	}
	// To look at it: FIRSTLINE_KEEP_SCREENSHOT=/tmp/kpi.png go test -run Chromium ./adapters/web/
	if keep := os.Getenv("FIRSTLINE_KEEP_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, mustRead(t, shot), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func forEach(img image.Image, fn func(r, g, b uint8)) {
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			fn(uint8(r>>8), uint8(g>>8), uint8(b>>8))
		}
	}
}

func near(v, want uint8) bool {
	d := int(v) - int(want)
	return d > -12 && d < 12
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
