package api_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/linedesk/linedesk/store"
)

// multipartFile builds a multipart/form-data body with one part named field.
func multipartFile(t *testing.T, field, name, contentType string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, name))
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	p, err := w.CreatePart(h)
	require.NoError(t, err)
	_, err = p.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes(), w.FormDataContentType()
}

// onePixelPNG is a valid 1×1 PNG.
var onePixelPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

type uploaded struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
}

// TestAnOperatorAttachesAFileToAReply: the assignee uploads a file to the conversation, sends
// its link as a reply's attachment, and the client's integration receives a signed, expiring
// link and downloads the same bytes without signing in; the plain link opens only with a
// session that may read the chat. Images are served inline, anything else as a download that
// can never run as a page of the console's site.
func TestAnOperatorAttachesAFileToAReply(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Files", "auto_open": true})
	_, olga := a.newOperator("olga@example.com", "Olga")
	_, in := a.inbound(cs, "f-1", clientText("u-files", "here is my receipt?"))
	n := *in.Conversation
	conv := fmt.Sprintf("/api/v1/conversations/%d", n)
	require.Equal(t, http.StatusOK, a.do(olga, "POST", conv+"/take", nil, nil).status)

	upload := func(c *http.Client, name, contentType string, data []byte) response {
		body, ct := multipartFile(t, "file", name, contentType, data)
		return a.do(c, "POST", conv+"/files", body, map[string]string{"Content-Type": ct})
	}
	// An image: its type comes from its bytes, whatever the browser said.
	res := upload(olga, "скан чека.png", "application/octet-stream", onePixelPNG)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var img uploaded
	res.json(t, &img)
	require.Equal(t, "скан чека.png", img.Name)
	require.Equal(t, "image/png", img.ContentType)
	require.Equal(t, int64(len(onePixelPNG)), img.Size)
	require.True(t, strings.HasPrefix(img.URL, a.url+"/api/v1/files/"), img.URL)

	// An HTML file claiming to be an image is neither an image nor a page.
	res = upload(olga, `C:\Users\olga\invoice.html`, "image/png", []byte("<script>alert(1)</script>"))
	require.Equal(t, http.StatusCreated, res.status, res.text)
	var doc uploaded
	res.json(t, &doc)
	require.Equal(t, "invoice.html", doc.Name, "the path the browser sent is dropped")
	require.NotEqual(t, "image/png", doc.ContentType)

	// The reply carries both; the integration gets the links.
	res = a.do(olga, "POST", conv+"/messages", map[string]any{"text": "Your receipt and invoice.", "attachments": []map[string]string{
		{"url": img.URL, "name": img.Name, "content_type": img.ContentType}, {"url": doc.URL, "name": doc.Name, "content_type": doc.ContentType}}}, nil)
	require.Equal(t, http.StatusCreated, res.status, res.text)
	got := cs.fake.WaitFor(t, 1, 20*time.Second)
	require.Len(t, got[0].Outbound.Message.Attachments, 2)
	signed := got[0].Outbound.Message.Attachments[0].URL
	require.True(t, strings.HasPrefix(signed, img.URL+"?expires="), signed)
	require.Contains(t, signed, "&sig=")

	// The integration downloads the bytes with the signed link, without a session.
	download := func(url string) *http.Response {
		res, err := http.Get(url)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	r := download(signed)
	require.Equal(t, http.StatusOK, r.StatusCode)
	body, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	require.Equal(t, onePixelPNG, body)
	require.Equal(t, "image/png", r.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline"), r.Header.Get("Content-Disposition"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "filename*=utf-8''%D1%81%D0%BA%D0%B0%D0%BD")

	// The plain link wants a session that may read the chat; a forged signature is refused.
	require.Equal(t, http.StatusUnauthorized, download(img.URL).StatusCode)
	require.Equal(t, http.StatusForbidden, download(signed[:len(signed)-2]+"xx").StatusCode)
	require.Equal(t, http.StatusForbidden, download(strings.Replace(signed, img.ID, doc.ID, 1)).StatusCode, "one file's signature opened another")
	a.newUser("stranger@example.com", "Stranger", store.RoleOperator)
	stranger := a.login("stranger@example.com", "pw-Stranger")
	res = a.do(stranger, "GET", strings.TrimPrefix(img.URL, a.url), nil, nil)
	require.Equal(t, http.StatusNotFound, res.status, "an operator of no line read the file")
	res = a.do(olga, "GET", strings.TrimPrefix(doc.URL, a.url), nil, nil)
	require.Equal(t, http.StatusOK, res.status)
	r = download(got[0].Outbound.Message.Attachments[1].URL)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment"), r.Header.Get("Content-Disposition"))
	require.Contains(t, r.Header.Get("Content-Security-Policy"), "sandbox")
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))

	// A cached copy is revalidated for free.
	req, _ := http.NewRequest("GET", signed, nil)
	req.Header.Set("If-None-Match", `"`+img.ID+`"`)
	r2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r2.Body.Close()
	require.Equal(t, http.StatusNotModified, r2.StatusCode)

	// Unknown and malformed links are 404.
	require.Equal(t, http.StatusNotFound, a.do(olga, "GET", "/api/v1/files/00000000-0000-4000-8000-000000000000", nil, nil).status)
	require.Equal(t, http.StatusNotFound, download(a.url+"/api/v1/files/not-a-file").StatusCode)

	// Programs are refused, whatever their name says.
	res = upload(olga, "setup.exe", "application/octet-stream", []byte("MZ\x90\x00 a program"))
	require.Equal(t, http.StatusUnsupportedMediaType, res.status, res.text)
	res = upload(olga, "invoice.pdf", "application/pdf", []byte("MZ\x90\x00 a program in disguise"))
	require.Equal(t, http.StatusUnsupportedMediaType, res.status, res.text)
	require.Contains(t, res.text, "unsupported_file_type")
}

// TestFileUploadRefusesWhatItCannotKeep: bad uploads get a clear 4xx and store nothing; an
// operator of another line cannot upload into a conversation they cannot see.
func TestFileUploadRefusesWhatItCannotKeep(t *testing.T) {
	t.Parallel()
	a := newApp(t, appOptions{})
	cs := a.setupChannel(map[string]any{"name": "Uploads", "auto_open": true})
	_, in := a.inbound(cs, "u-1", clientText("u-up", "hello"))
	conv := fmt.Sprintf("/api/v1/conversations/%d", *in.Conversation)
	post := func(c *http.Client, path string, body []byte, ct string) response {
		return a.do(c, "POST", path, body, map[string]string{"Content-Type": ct})
	}

	body, ct := multipartFile(t, "file", "empty.txt", "text/plain", nil)
	res := post(a.http, conv+"/files", body, ct)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "empty")

	body, ct = multipartFile(t, "document", "a.txt", "text/plain", []byte("hi"))
	res = post(a.http, conv+"/files", body, ct)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, `no part named \"file\"`)

	res = a.do(a.http, "POST", conv+"/files", map[string]string{"file": "aGk="}, nil)
	require.Equal(t, http.StatusBadRequest, res.status, res.text)
	require.Contains(t, res.text, "multipart/form-data")

	res = post(a.http, conv+"/files", []byte("--x\r\nnot a part"), "multipart/form-data; boundary=x")
	require.Equal(t, http.StatusBadRequest, res.status, res.text)

	big := bytes.Repeat([]byte{'a'}, 25<<20+1)
	body, ct = multipartFile(t, "file", "big.bin", "application/octet-stream", big)
	res = post(a.http, conv+"/files", body, ct)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.status, res.text)
	require.Equal(t, "file_too_large", res.errorCode(t))

	// Another line's operator: the conversation does not exist for them.
	other := a.setupChannel(map[string]any{"name": "Elsewhere", "auto_open": true})
	vera := a.newUser("vera@example.com", "Vera", store.RoleOperator)
	_, err := a.store.SaveGroup(t.Context(), store.Group{Name: "Elsewhere only", Kind: store.GroupOperators,
		Permissions: []string{store.PermOmni, store.PermUnassignedQueue}, MemberIDs: []int64{vera.ID}, LineIDs: []int64{other.lineID}})
	require.NoError(t, err)
	body, ct = multipartFile(t, "file", "a.txt", "text/plain", []byte("hi"))
	res = post(a.login("vera@example.com", "pw-Vera"), conv+"/files", body, ct)
	require.Equal(t, http.StatusNotFound, res.status, res.text)
	res = post(a.http, "/api/v1/conversations/999999/files", body, ct)
	require.Equal(t, http.StatusNotFound, res.status, res.text)

	var count int
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM files`).Scan(&count))
	require.Zero(t, count, "nothing refused was stored")
}
