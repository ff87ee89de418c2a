package vulnapp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/awsguard/awsguard/internal/vulnapp"
)

func get(t *testing.T, h http.Handler, password string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/login?" + url.Values{"user": {vulnapp.User}, "password": {password}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The app is really injectable; the WAF really blocks the injection and
// lets the right password through.
func TestApp(t *testing.T) {
	app, err := vulnapp.New()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	for _, tc := range []struct {
		password string
		status   int
	}{{vulnapp.Password, 200}, {"wrong", 401}, {"' OR '1'='1", 200}, {"'", 500}} {
		if got, body := get(t, app, tc.password); got != tc.status || (got == 200 && !strings.HasPrefix(body, vulnapp.Welcome)) {
			t.Errorf("%q: %d %q, want %d", tc.password, got, body, tc.status)
		}
	}
	if app.Logins() != 2 {
		t.Errorf("logins %d", app.Logins())
	}
	h, err := vulnapp.Protect(app)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, h, "' OR '1'='1"); got != 403 {
		t.Errorf("behind the WAF, the injection got %d", got)
	}
	if got, _ := get(t, h, vulnapp.Password); got != 200 {
		t.Errorf("behind the WAF, the right password got %d", got)
	}
	if got, _ := get(t, vulnapp.BlockAll(), vulnapp.Password); got != 403 {
		t.Errorf("block all: %d", got)
	}
}
