// Package vulnapp is a deliberately vulnerable login application, and the
// OWASP Coraza WAF with the OWASP Core Rule Set to put in front of it, for
// the tests and examples of package waf: the probe's SQL injections really
// log into the bare application, and a real WAF engine blocks them.
//
// Never serve it anywhere but on loopback. Package waf itself does not
// import it: Coraza and SQLite are dependencies of the tests and the
// examples only.
package vulnapp

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	txhttp "github.com/corazawaf/coraza/v3/http"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"
)

// The application's one account.
const (
	User     = "admin"
	Password = "s3cret-Passw0rd"
	// Welcome starts the body of a successful login: "welcome admin".
	Welcome = "welcome "
)

// App is the vulnerable login application. Its handler answers every path:
// it reads "user" and "password" from the query string, a form body, a
// JSON body, the "password" cookie (percent-encoded) or the
// PasswordHeader header, in that order, and runs the seed's injectable
// query
//
//	SELECT user FROM users WHERE id='USER' AND password='PASSWORD'
//
// built by string concatenation. A row logs in (200 "welcome USER"), no
// row is 401, an SQL error 500.
type App struct {
	db *sql.DB
	// PasswordHeader is the header the password may come in; default
	// User-Agent.
	PasswordHeader string
	logins         atomic.Int64
}

var seq atomic.Int64

// New opens a fresh in-memory database with the one account.
func New() (*App, error) {
	name := fmt.Sprintf("file:vulnapp%d?mode=memory&cache=shared", seq.Add(1))
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one connection keeps the in-memory database alive
	for _, q := range []string{
		`CREATE TABLE users (id TEXT PRIMARY KEY, user TEXT, password TEXT)`,
		`INSERT INTO users VALUES ('admin', 'admin', '` + Password + `')`,
	} {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &App{db: db, PasswordHeader: "User-Agent"}, nil
}

// Close closes the database.
func (a *App) Close() error { return a.db.Close() }

// Logins returns how many requests logged in.
func (a *App) Logins() int64 { return a.logins.Load() }

func (a *App) credentials(r *http.Request) (user, password string, ok bool) {
	q := r.URL.Query()
	user = q.Get("user")
	if q.Has("password") {
		return user, q.Get("password"), true
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		f, err := url.ParseQuery(string(body))
		if err == nil && f.Has("password") {
			return f.Get("user"), f.Get("password"), true
		}
	case strings.HasPrefix(ct, "application/json"):
		var v map[string]string
		if json.Unmarshal(body, &v) == nil {
			if p, has := v["password"]; has {
				return v["user"], p, true
			}
		}
	}
	if c, err := r.Cookie("password"); err == nil {
		p, err := url.QueryUnescape(c.Value)
		if err == nil {
			return user, p, true
		}
	}
	if h := r.Header.Get(a.PasswordHeader); h != "" {
		return user, h, true
	}
	return user, "", false
}

// ServeHTTP serves the login.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, password, ok := a.credentials(r)
	if !ok {
		http.Error(w, "user and password required", http.StatusBadRequest)
		return
	}
	// Injectable on purpose: this is what the probe proves.
	q := "SELECT user FROM users WHERE id='" + user + "' AND password='" + password + "'"
	var got string
	err := a.db.QueryRowContext(r.Context(), q).Scan(&got)
	switch {
	case err == sql.ErrNoRows:
		http.Error(w, "denied", http.StatusUnauthorized)
	case err != nil:
		http.Error(w, "database error", http.StatusInternalServerError)
	default:
		a.logins.Add(1)
		fmt.Fprint(w, Welcome+got)
	}
}

var (
	wafOnce sync.Once
	wafVal  coraza.WAF
	wafErr  error
)

// CRS returns the Coraza WAF with the OWASP Core Rule Set (blocking
// paranoia level 2, anomaly scoring, blocking on) and one site rule that
// extends CRS 920230's multiple-URL-encoding check from the arguments to
// the cookies and the headers CRS inspects for injections (User-Agent,
// Referer). It is built once: loading the rules takes a while.
func CRS() (coraza.WAF, error) {
	wafOnce.Do(func() {
		wafVal, wafErr = coraza.NewWAF(coraza.NewWAFConfig().
			WithRootFS(coreruleset.FS).
			WithDirectives(`
Include @coraza.conf-recommended
Include @crs-setup.conf.example
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=2"
Include @owasp_crs/*.conf
SecRule REQUEST_COOKIES|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer "@rx %[0-9a-fA-F]{2}" "id:1000001,phase:2,deny,status:403,t:none,t:urlDecodeUni,log,msg:'Multiple URL encoding in a cookie or an inspected header'"
SecRuleEngine On
SecResponseBodyAccess Off
`))
	})
	return wafVal, wafErr
}

// Protect returns h behind the Coraza WAF with the Core Rule Set: a
// request the rules flag is answered 403.
func Protect(h http.Handler) (http.Handler, error) {
	w, err := CRS()
	if err != nil {
		return nil, err
	}
	return txhttp.WrapHandler(w, h), nil
}

// BlockAll is a "WAF" that answers every request 403: the probe must
// report it as breaking benign traffic.
func BlockAll() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "blocked", http.StatusForbidden)
	})
}
