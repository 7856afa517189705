package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/linedesk/linedesk/store"
)

// maxFileSize is the largest file an operator attaches: 25 MiB, what mail servers commonly take
// and below the messengers' upload limits (Telegram 50 MB, WhatsApp 100 MB).
const maxFileSize = 25 << 20

// inlineImages are the types the console shows inline and a browser opens in place; they are
// recognised from the file's bytes, never from what the uploader declared. SVG is not among
// them: it can carry scripts.
var inlineImages = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

type fileOut struct {
	store.File
	// URL is the file's link, for a reply's attachments. Operators open it with their session;
	// when the reply goes out, the channel gets a signed link that expires.
	URL string `json:"url"`
}

// blockedExtensions are programs and scripts a desk never passes between clients and operators:
// one opened by mistake runs on the opener's machine.
var blockedExtensions = []string{".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".dll", ".cpl", ".jar",
	".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".lnk", ".reg", ".sh", ".app", ".apk", ".appimage"}

// blockedTypes are the same, recognised from the bytes whatever the name says.
var blockedTypes = map[string]bool{"application/x-msdownload": true, "application/vnd.microsoft.portable-executable": true,
	"application/x-executable": true, "application/x-elf": true, "application/x-mach-binary": true, "application/java-archive": true}

// checkFileType refuses programs and scripts with 415.
func checkFileType(name, contentType string, data []byte) error {
	lower := strings.ToLower(name)
	for _, ext := range blockedExtensions {
		if strings.HasSuffix(lower, ext) {
			return newError(http.StatusUnsupportedMediaType, "unsupported_file_type", "%s files are not accepted: programs and scripts could harm whoever opens them", ext)
		}
	}
	if blockedTypes[contentType] || bytes.HasPrefix(data, []byte("MZ")) || bytes.HasPrefix(data, []byte("\x7fELF")) {
		return newError(http.StatusUnsupportedMediaType, "unsupported_file_type", "programs are not accepted: they could harm whoever opens them")
	}
	return nil
}

// uploadFile stores one file (multipart part "file") in the conversation's chat and answers its
// link, to be sent as a reply's attachment.
func (s *Server) uploadFile(c echo.Context) error {
	n, err := conversationNumber(c)
	if err != nil {
		return err
	}
	name, ct, data, err := readUpload(c)
	if err != nil {
		return err
	}
	f, err := s.store.SaveFile(c.Request().Context(), n, name, ct, currentUser(c).ID, data)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("conversation #" + c.Param("number"))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, fileOut{File: f, URL: s.baseURL(c) + "/api/v1/files/" + f.ID.String()})
}

// readUpload reads one uploaded file (multipart part "file"): its clean name, its type (sniffed
// where the client said nothing useful) and its bytes, checked against the size and type rules.
func readUpload(c echo.Context) (string, string, []byte, error) {
	req := c.Request()
	if mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEMultipartForm {
		return "", "", nil, badRequest(`Content-Type must be multipart/form-data, with the file in a part named "file"`)
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxFileSize+1<<20)
	mr, err := req.MultipartReader()
	if err != nil {
		return "", "", nil, badRequest("request body is not valid multipart/form-data: %s", err.Error())
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", "", nil, badRequest(`request has no part named "file"`)
		}
		if err != nil {
			return "", "", nil, multipartError(err)
		}
		if p.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, maxFileSize+1))
		if err != nil {
			return "", "", nil, multipartError(err)
		}
		if len(data) > maxFileSize {
			return "", "", nil, fileTooLarge()
		}
		if len(data) == 0 {
			return "", "", nil, badRequest("the file is empty")
		}
		name, ct := fileName(p.FileName()), fileType(p.Header.Get(echo.HeaderContentType), data)
		if err := checkFileType(name, ct, data); err != nil {
			return "", "", nil, err
		}
		return name, ct, data, nil
	}
}

// getFile serves a file: to whoever holds a signed link that has not expired (a platform or an
// integrator fetching an attachment), or to a signed-in user who may read the file's chat (or
// uploaded it). Images are served inline, everything else as a download, and never as a page of
// this site (a sandboxed, script-less document even if it is HTML).
func (s *Server) getFile(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return notFoundErr("file " + c.Param("id"))
	}
	ctx := c.Request().Context()
	q := c.QueryParams()
	if q.Has("sig") || q.Has("expires") {
		if !s.store.FileLinks().Valid(id.String(), q.Get("expires"), q.Get("sig"), time.Now()) {
			return newError(http.StatusForbidden, "link_expired", "the link has expired or is not valid; ask for a new one")
		}
		return s.serveFile(c, id)
	}
	if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
		// A knowledge-base image is public: anyone holding its link reads it.
		if f, err := s.store.FileInfo(ctx, id); err == nil && f.Public {
			return s.serveFile(c, id)
		}
	}
	return s.authenticate(func(c echo.Context) error {
		f, err := s.store.FileInfo(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundErr("file " + c.Param("id"))
		}
		if err != nil {
			return err
		}
		u := currentUser(c)
		allowed := u.Role == store.RoleAdmin || f.Public || (f.UploadedBy != nil && *f.UploadedBy == u.ID)
		if !allowed && f.ChatID != nil {
			_, role, err := s.store.ChatLineRole(ctx, *f.ChatID, u)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			allowed = err == nil && role != store.LineRoleNone
		}
		if !allowed && f.ChatID == nil {
			// A call's recording before a conversation is made from the call: the call's line.
			call, err := s.store.CallOfFile(ctx, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil {
				lines, err := s.callLines(ctx, u)
				if err != nil {
					return err
				}
				allowed = slices.Contains(lines, call.LineID)
			}
		}
		if !allowed {
			return notFoundErr("file " + c.Param("id"))
		}
		return s.serveFile(c, id)
	})(c)
}

func (s *Server) serveFile(c echo.Context, id uuid.UUID) error {
	f, data, err := s.store.FileData(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundErr("file " + c.Param("id"))
	}
	if err != nil {
		return err
	}
	disposition := "attachment"
	if inlineImages[f.ContentType] {
		disposition = "inline"
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'")
	h.Set(echo.HeaderContentType, f.ContentType)
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("ETag", `"`+f.ID.String()+`"`)
	http.ServeContent(c.Response(), c.Request(), "", f.CreatedAt, bytes.NewReader(data))
	return nil
}

func multipartError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return fileTooLarge()
	}
	return badRequest("request body is not valid multipart/form-data: %s", err.Error())
}

func fileTooLarge() error {
	return newError(http.StatusRequestEntityTooLarge, "file_too_large", "the file is larger than %d MB", maxFileSize>>20)
}

// fileName keeps the last element of the name the client sent, in valid UTF-8, without control
// characters, at most 255 characters; "file" when nothing is left.
func fileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" {
		return "file"
	}
	for utf8.RuneCountInString(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// fileType is the type a file is served with: an image type only when its bytes are that image,
// else the type the client declared when it is well-formed, else what the bytes look like.
func fileType(declared string, data []byte) string {
	sniffed := http.DetectContentType(data)
	if inlineImages[sniffed] {
		return sniffed
	}
	if mt, params, err := mime.ParseMediaType(declared); err == nil && !inlineImages[mt] {
		return mime.FormatMediaType(mt, params)
	}
	return sniffed
}

// baseURL is where clients reach this server: the configured public URL, else the request's own
// scheme and host (the host is checked against the allowed hosts when those are set).
func (s *Server) baseURL(c echo.Context) string {
	if s.publicURL != "" {
		return strings.TrimRight(s.publicURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}
