package sqlstore

import (
	"errors"
	"net/url"
	"strings"
)

// redactedError is an error whose message has had passwords taken out. It
// does not unwrap to its cause: pgconn.ParseConfigError keeps the original
// connection string in a field, pgconn.ConnectError the configuration with
// the password, and errors.As would hand them to anyone. errors.Is still
// reaches the cause, so callers can tell context.Canceled and the like.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }

// Is reports whether the cause matches target.
func (e *redactedError) Is(target error) bool { return errors.Is(e.cause, target) }

// redact returns err with every non-empty secret in its message replaced by
// xxxxx, in plain and URL-escaped form, and cut off from its cause.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: scrub(err.Error(), secrets...), cause: err}
}

// scrub replaces every non-empty secret in msg with xxxxx, in plain and
// URL-escaped form.
func scrub(msg string, secrets ...string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]} {
			if form != "" {
				msg = strings.ReplaceAll(msg, form, "xxxxx")
			}
		}
	}
	return msg
}

// Redacted returns a connection string with its passwords (in the user
// part, password= and sslpassword=) replaced by xxxxx, for logs and
// messages.
func Redacted(connString string) string {
	return scrub(connString, secretsIn(connString)...)
}

// secretsIn finds, as well as it can, the passwords in a connection string
// that may not parse: the password of a URL's user information, and the
// password and sslpassword settings of a URL query or a keyword/value
// string. Parse errors are where a malformed string is most likely to be
// quoted back, so this does not rely on the string being valid.
func secretsIn(connString string) []string {
	var out []string
	if u, err := url.Parse(connString); err == nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
		q := u.Query()
		out = append(out, q["password"]...)
		out = append(out, q["sslpassword"]...)
	}

	// user:password@ after the scheme, up to the last @ so that a
	// password containing an unescaped @ is taken whole.
	if _, rest, ok := strings.Cut(connString, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				out = append(out, pw)
				if dec, err := url.PathUnescape(pw); err == nil {
					out = append(out, dec)
				}
			}
		}
	}

	// password=… in a query (up to &) or a keyword/value string (up to a
	// space, or quoted).
	for _, key := range []string{"password=", "sslpassword="} {
		s := connString
		for {
			i := strings.Index(s, key)
			if i < 0 {
				break
			}
			s = s[i+len(key):]
			var v string
			if strings.HasPrefix(s, "'") {
				v, _, _ = strings.Cut(s[1:], "'")
			} else {
				end := strings.IndexAny(s, "& ")
				if end < 0 {
					end = len(s)
				}
				v = s[:end]
			}
			out = append(out, v)
			if dec, err := url.QueryUnescape(v); err == nil {
				out = append(out, dec)
			}
		}
	}
	return out
}
