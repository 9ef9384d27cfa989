package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
)

// page is one of the small pages people see after clicking a link: a
// title, a few sentences and, where there is a choice, a form of buttons
// that posts back to the same address.
type page struct {
	Title string
	Lines []string
	// Buttons submit the form with name=value; none means no form.
	Buttons []button
	Org     string
}

type button struct {
	Name, Value, Label string
	Secondary          bool
}

// The pages need no script, font or image: the Content-Security-Policy
// allows nothing but the inline style and posting to this server.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}} · {{.Org}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f5f2;color:#222;margin:0;padding:2rem 1rem}
main{max-width:32rem;margin:0 auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin-top:0}
p{line-height:1.5}
form{display:flex;flex-direction:column;gap:.6rem;margin:1.2rem 0}
button{font:inherit;padding:.7rem 1rem;border-radius:6px;border:1px solid #2d5a27;background:#2d5a27;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#2d5a27}
.org{color:#777;font-size:.85rem;margin-bottom:0}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}{{if .Buttons}}<form method="post">
{{range .Buttons}}<button type="submit" name="{{.Name}}" value="{{.Value}}"{{if .Secondary}} class="secondary"{{end}}>{{.Label}}</button>
{{end}}</form>
{{end}}<p class="org">{{.Org}}</p>
</main>
</body>
</html>
`))

// render writes a page with its status.
func (s *Server) render(w http.ResponseWriter, status int, p page) {
	p.Org = s.opts.Organisation
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		s.log.Error("render page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// invalidLink is the page for a token that is not genuine or names
// nothing that exists. It says no more than that.
func (s *Server) invalidLink(w http.ResponseWriter) {
	s.render(w, http.StatusNotFound, page{
		Title: "This link is not valid",
		Lines: []string{"The link may have been shortened or changed on its way. Please use the link exactly as it was sent to you."},
	})
}

// unavailable is the page for a failure on our side.
func (s *Server) unavailable(w http.ResponseWriter) {
	s.render(w, http.StatusServiceUnavailable, page{
		Title: "Please try again",
		Lines: []string{"We could not record this just now. Please try the link again in a minute."},
	})
}
