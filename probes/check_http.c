/*
 * check_http.c: an HTTP(S) check, on the loop or through libcurl.
 *
 *	check http URL [status N|N-M] [contains "text"] [method GET|HEAD]
 *	    [cert-expiry D] [follow-redirects] [header "Name: value"]...
 *	    [ca-file "/PATH"] [every D] [timeout D]
 *
 * The service is up when it answers with a status in the range (200-399
 * unless given), its body (the first 1 MiB of it) holds the text, and,
 * with cert-expiry, its certificate is good for longer than that.  TLS
 * certificates are always verified, against the system's CAs or ca-file.
 *
 * An http:// or https:// check that follows no redirects is one request
 * on the daemon's loop: a non-blocking socket, for https a TLS handshake
 * driven by the socket's events (tls_client.c, OpenSSL), the request
 * built once when the rules are read, the answer read by http_resp.c.
 * libcurl's transfer costs twice the system calls and more than twice the
 * CPU of that (see tests/bench/bench.py), an https one about 130 kB while
 * it runs, and a computer center checks thousands of these (a URL of
 * an unusual form is split by curl's parser, then runs on the loop too).
 * A check that follows redirects runs in one curl multi handle driven by
 * the loop (curlev.h: curl's multi-socket interface on libevent).
 * RTOWATCH_HTTP_CLIENT=curl in the daemon's environment sends every
 * check through curl, as before (the tests run both).  Each
 * probe opens a fresh connection and closes it, so a probe measures what a
 * new client would see.  The timeout is probe.c's; curl's own is a
 * safeguard set a second later.
 *
 * Names: the URL's host is resolved like every other check's (resolve.c:
 * evdns, kept for the answer's TTL), and handed to curl with
 * CURLOPT_RESOLVE, so curl connects without resolving.  Only a redirect to another host makes curl resolve
 * by itself; Debian's libcurl does that in its resolver thread, which does
 * not block the loop, and CURLOPT_QUICK_EXIT keeps a cancelled probe from
 * waiting for that thread.  Names under .invalid fail at once (RFC 6761,
 * 6.4): no query for them leaves the host.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/util.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check_http.h"
#include "conf.h"
#include "curlev.h"
#include "lazylib.h"
#include "log.h"
#include "probe.h"
#include "tls_client.h"
#include "util.h"

#define HTTP_MAX_REDIRS		5
#define HTTP_MAX_ADDRS		8
#define HTTP_CURL_GRACE_MS	1000	/* curl's timeout after probe.c's */
#define HTTP_USER_AGENT		"rtowatch-probe"

/* An IPv4 or IPv6 address and port: a fifth of a sockaddr_storage. */
union http_sa {
	struct sockaddr		 sa;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
};

struct http_opts {
	/*
	 * A plain probe's request, in the rules: its first line's method
	 * and path (conf_strdup), then the rest, the same for every check
	 * of a host (conf_intern); a probe joins them (http_plain_start).
	 * Kept whole, the request was a 96-byte block a check.
	 */
	const char	*req_line;	/* "GET /path?query" */
	const char	*req_rest;	/* " HTTP/1.1\r\nHost: ..." */
	size_t		 request_len;	/* both */
	union http_sa	 addr;		/* plain, an address URL: where */
	socklen_t	 addrlen;
	char		*contains;
	char		**headers;
	/*
	 * The rules' (conf_intern): 10,000 https checks name one CA file
	 * and a few addresses, and their copies were 100 bytes a check
	 * (issue 20).
	 */
	const char	*ca_file;
	char		*host;		/* to resolve; NULL for an address */
	struct tls_ctx	*tls;		/* https on the loop: its CA store */
	const char	*tls_ip;	/* https, an address URL: verified */
	int64_t		 cert_expiry_ms;	/* 0: not checked */
	int		 status_lo, status_hi;
	size_t		 nheaders;
	int		 head;
	int		 follow;
	int		 port;
	int		 https;
};

struct http_state {
	struct probe			*probe;
	CURL				*easy;
	int				 added;	/* to the multi handle */
	struct curl_slist		*resolve;
	struct curl_slist		*headers;
	struct check_http_body		 body;
	int64_t				 dns_ms;	/* evdns, before curl */
	char				 reason[CHECK_HTTP_REASON_MAX];
	char				 errbuf[CURL_ERROR_SIZE];

	/* A plain request on the loop (no easy handle). */
	int				 plain;
	struct event			*ev;
	evutil_socket_t			 fd;
	int				 connected;
	size_t				 sent;
	int64_t				 t_conn, t_first; /* -1: not yet */
	struct http_resp		*resp;
	char				*request;	/* plain: sent */
	struct tls_conn			*tls;	/* https on the loop */
	int				 handshaken;
	int				 gated;	/* connected, waits for a slot */
	int64_t				 t_tls;
	int64_t				 not_after;	/* epoch s, -1 */
	union http_sa			 addrs[HTTP_MAX_ADDRS];
	socklen_t			 addrlens[HTTP_MAX_ADDRS];
	int				 naddrs, next;
};

/* The kind's shared state: one multi handle on the loop. */
static struct curlev	*http_curl;	/* made at first use */
static struct event_base *http_base;
static int		 http_ca_bundle;	/* curl has a default CA file */
static int		 http_curl_only;	/* RTOWATCH_HTTP_CLIENT=curl */

static void	http_finished(struct http_state *, CURLcode);
static void	http_judge(struct http_state *, long, int64_t, const char *);
static int	http_cert_judged(struct probe *, int64_t);

/* ---------------------------------------------------------------- parsing */

/* Between min and max decimal digits at *sp; advances *sp. */
static int
http_num(const char **sp, int min, int max, int *out)
{
	const char	*s = *sp;
	int		 n = 0, v = 0;

	while (n < max && isdigit((unsigned char)s[n])) {
		v = v * 10 + (s[n] - '0');
		n++;
	}
	if (n < min)
		return -1;
	*sp = s + n;
	*out = v;
	return 0;
}

/* "N" or "N-M", three digits each, within 100-599. */
int
check_http_parse_status(const char *s, int *lo, int *hi)
{
	int	 a, b;

	if (http_num(&s, 3, 3, &a) == -1)
		return -1;
	if (*s == '\0')
		b = a;
	else if (*s != '-')
		return -1;
	else {
		s++;
		if (http_num(&s, 3, 3, &b) == -1 || *s != '\0')
			return -1;
	}
	if (a < 100 || b > 599 || a > b)
		return -1;
	*lo = a;
	*hi = b;
	return 0;
}

/*
 * A header line from the server: when it is a status line ("HTTP/1.1 200
 * OK"), its code and its reason phrase, made printable.
 */
int
check_http_status_line(const char *line, size_t len, int *code, char *reason,
    size_t reasonlen)
{
	size_t	 i = 5, j = 0;

	if (len < 5 || memcmp(line, "HTTP/", 5) != 0)
		return -1;
	while (i < len && line[i] != ' ') {
		if (!isdigit((unsigned char)line[i]) && line[i] != '.')
			return -1;
		i++;
	}
	if (i == 5)
		return -1;
	while (i < len && line[i] == ' ')
		i++;
	if (i + 3 > len || !isdigit((unsigned char)line[i]) ||
	    !isdigit((unsigned char)line[i + 1]) ||
	    !isdigit((unsigned char)line[i + 2]))
		return -1;
	*code = (line[i] - '0') * 100 + (line[i + 1] - '0') * 10 +
	    (line[i + 2] - '0');
	i += 3;
	if (i < len && line[i] != ' ' && line[i] != '\r' && line[i] != '\n')
		return -1;
	while (i < len && line[i] == ' ')
		i++;
	while (len > i && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
	    line[len - 1] == ' '))
		len--;
	if (reasonlen == 0)
		return 0;
	for (; i < len && j + 1 < reasonlen; i++)
		reason[j++] = isprint((unsigned char)line[i]) ? line[i] : '?';
	reason[j] = '\0';
	return 0;
}

/*
 * Take what fits of N more body bytes; returns how many were taken.  Past
 * the limit the body is "capped": the rest is not read.
 */
size_t
check_http_body_add(struct check_http_body *b, const char *data, size_t n)
{
	size_t	 take = n, size;

	if (b->seen >= b->limit) {
		if (n > 0)
			b->capped = 1;
		return 0;
	}
	if (take > b->limit - b->seen) {
		take = b->limit - b->seen;
		b->capped = 1;
	}
	if (b->keep && take > 0) {
		if (b->len + take > b->size) {
			size = b->size < 4096 ? 4096 : b->size * 2;
			if (size < b->len + take)
				size = b->len + take;
			if (size > b->limit)
				size = b->limit;
			b->buf = xrealloc(b->buf, size);
			b->size = size;
		}
		memcpy(b->buf + b->len, data, take);
		b->len += take;
	}
	b->seen += take;
	return take;
}

int
check_http_body_contains(const struct check_http_body *b, const char *text)
{
	size_t	 n = strlen(text);

	if (n == 0)
		return 1;
	if (b->buf == NULL || b->len < n)
		return 0;
	return memmem(b->buf, b->len, text, n) != NULL;
}

void
check_http_body_free(struct check_http_body *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->size = 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
http_days_from_civil(int64_t y, int m, int d)
{
	int64_t	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "HH:MM:SS" with an optional fraction, which is dropped. */
static int
http_clock(const char **sp, int *h, int *mi, int *sec)
{
	const char	*s = *sp;

	if (http_num(&s, 2, 2, h) == -1 || *s++ != ':' ||
	    http_num(&s, 2, 2, mi) == -1 || *s++ != ':' ||
	    http_num(&s, 2, 2, sec) == -1)
		return -1;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	*sp = s;
	return 0;
}

/*
 * A certificate's "Expire date" as curl reports it, into epoch seconds:
 * "Dec  1 00:00:00 2026 GMT" from OpenSSL's ASN1_TIME_print, or
 * "2026-12-01 00:00:00 GMT" from curl's own ASN.1 code (other TLS
 * backends).
 */
int
check_http_parse_date(const char *s, int64_t *out)
{
	static const char	 months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const int	 mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };
	int			 y, mo, d, h, mi, sec, leap;

	while (*s == ' ')
		s++;
	if (isdigit((unsigned char)*s)) {
		if (http_num(&s, 4, 4, &y) == -1 || *s++ != '-' ||
		    http_num(&s, 2, 2, &mo) == -1 || *s++ != '-' ||
		    http_num(&s, 2, 2, &d) == -1 || *s++ != ' ' ||
		    http_clock(&s, &h, &mi, &sec) == -1)
			return -1;
	} else {
		for (mo = 0; mo < 12; mo++)
			if (strncmp(s, months + (ptrdiff_t)mo * 3, 3) == 0)
				break;
		if (mo == 12)
			return -1;
		mo++;
		s += 3;
		if (*s != ' ')
			return -1;
		while (*s == ' ')
			s++;
		if (http_num(&s, 1, 2, &d) == -1 || *s++ != ' ' ||
		    http_clock(&s, &h, &mi, &sec) == -1 || *s++ != ' ' ||
		    http_num(&s, 4, 4, &y) == -1)
			return -1;
	}
	while (*s == ' ')
		s++;
	if (strncmp(s, "GMT", 3) == 0)
		s += 3;
	else if (*s == 'Z')
		s++;
	while (*s == ' ')
		s++;
	if (*s != '\0')
		return -1;

	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (sec == 60)
		sec = 59;	/* a leap second: close enough */
	*out = http_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
	    (int64_t)mi * 60 + sec;
	return 0;
}

/* Epoch seconds as "2026-12-01T00:00:00Z". */
char *
check_http_date_fmt(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* ---------------------------------------------------------------- options */

static struct http_opts *
http_opts(struct check_conf *cc)
{
	struct http_opts	*o = cc->opts;

	if (o == NULL) {
		o = cc->opts = xcalloc(1, sizeof(*o));
		o->status_lo = 200;
		o->status_hi = 399;
	}
	return o;
}

/* "Name: value": a token, a colon, then printable text. */
static int
http_valid_header(const char *h)
{
	const char	*s;

	for (s = h; *s != '\0' && *s != ':'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return 0;
	if (s == h || *s != ':')
		return 0;
	for (s++; *s != '\0'; s++)
		if (!isprint((unsigned char)*s) && *s != '\t')
			return 0;
	return 1;
}

/* A string option's value, into S: an error if it was GIVEN already. */
static int
http_next_once(struct conf_parser *p, const char *what, int given, char **s)
{
	if (conf_next_string(p, what, s) == -1)
		return -1;
	if (given) {
		conf_error(p, "http check: \"%s\" given twice", what);
		free(*s);
		return -1;
	}
	return 0;
}

/* A string option that may be given once. */
static int
http_string_once(struct conf_parser *p, const char *what, char **out)
{
	char	*s;

	if (http_next_once(p, what, *out != NULL, &s) == -1)
		return -1;
	*out = s;
	return 0;
}

/* As http_string_once, the string kept once in the rules. */
static int
http_intern_once(struct conf_parser *p, const char *what, const char **out)
{
	char	*s;

	if (http_next_once(p, what, *out != NULL, &s) == -1)
		return -1;
	*out = conf_parser_intern(p, s);
	free(s);
	return 0;
}

static int
http_option(struct conf_parser *p, struct check_conf *cc, const char *word)
{
	struct http_opts	*o = http_opts(cc);
	char			*s = NULL;
	int			 rc = 1;

	if (strcmp(word, "status") == 0) {
		if (conf_next_string(p, "status", &s) == -1)
			return -1;
		if (check_http_parse_status(s, &o->status_lo,
		    &o->status_hi) == -1) {
			conf_error(p, "status \"%s\": expected a code or a "
			    "range of codes within 100-599 (200, 200-299)", s);
			rc = -1;
		}
	} else if (strcmp(word, "contains") == 0) {
		if (http_string_once(p, "contains", &o->contains) == -1)
			return -1;
		if (*o->contains == '\0') {
			conf_error(p, "contains: empty text");
			return -1;
		}
	} else if (strcmp(word, "method") == 0) {
		if (conf_next_string(p, "method (GET or HEAD)", &s) == -1)
			return -1;
		if (strcmp(s, "GET") == 0)
			o->head = 0;
		else if (strcmp(s, "HEAD") == 0)
			o->head = 1;
		else {
			conf_error(p, "method \"%s\": GET or HEAD", s);
			rc = -1;
		}
	} else if (strcmp(word, "cert-expiry") == 0) {
		if (conf_next_duration(p, "cert-expiry", 1000,
		    3650 * 86400000LL, &o->cert_expiry_ms) == -1)
			return -1;
	} else if (strcmp(word, "follow-redirects") == 0) {
		o->follow = 1;
	} else if (strcmp(word, "header") == 0) {
		if (conf_next_string(p, "header \"Name: value\"", &s) == -1)
			return -1;
		if (!http_valid_header(s)) {
			conf_error(p, "header \"%s\": expected \"Name: "
			    "value\" in printable characters", s);
			rc = -1;
		} else {
			o->headers = xreallocarray(o->headers,
			    o->nheaders + 1, sizeof(*o->headers));
			o->headers[o->nheaders++] = s;
			s = NULL;
		}
	} else if (strcmp(word, "ca-file") == 0) {
		if (http_intern_once(p, "ca-file", &o->ca_file) == -1)
			return -1;
		/* The daemon runs from /: a relative path would mislead. */
		if (o->ca_file[0] != '/') {
			conf_error(p, "ca-file \"%s\": not an absolute path",
			    o->ca_file);
			return -1;
		}
	} else
		rc = 0;
	free(s);
	return rc;
}

void
check_http_url_free(struct check_http_url *u)
{
	free(u->host);
	free(u->port);
	free(u->path);
	free(u->query);
	memset(u, 0, sizeof(*u));
}

/* What may stand in a path or a query as it is: RFC 3986's pchar, no %. */
static int
http_url_char(int c)
{
	return isalnum(c) || strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

/* Whether PATH (from its "/" to N bytes) has a "." or ".." segment. */
static int
http_url_dots(const char *path, size_t n)
{
	size_t	 i, seg;

	for (i = 0; i < n; i = seg) {
		for (seg = i + 1; seg < n && path[seg] != '/'; seg++)
			;
		if ((seg - i == 2 && path[i + 1] == '.') ||
		    (seg - i == 3 && path[i + 1] == '.' && path[i + 2] == '.'))
			return 1;
	}
	return 0;
}

/* A name in letters, digits, '-' and '.', no empty label. */
static int
http_url_host_name(const char *h, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (h[i] == '.' ? i == 0 || h[i - 1] == '.' || i == n - 1 :
		    !isalnum((unsigned char)h[i]) && h[i] != '-')
			return 0;
	return 1;
}

/*
 * A host curl keeps as written: a name whose last label starts with a
 * letter, a dotted quad as inet_pton reads it, or an IPv6 address in
 * brackets in its shortest form.  curl rewrites the others (127.1,
 * 0x7f.1, [0:0::1]); those, a trailing dot, "%25zone", IDNs go to curl.
 */
static int
http_url_host(const char *h, size_t n)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		 buf[INET6_ADDRSTRLEN + 2], back[INET6_ADDRSTRLEN];
	size_t		 last;

	if (n > 0 && h[0] == '[') {
		if (n < 4 || n >= sizeof(buf) || h[n - 1] != ']')
			return 0;
		memcpy(buf, h + 1, n - 2);
		buf[n - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 &&
		    inet_ntop(AF_INET6, &a6, back, sizeof(back)) != NULL &&
		    strcmp(back, buf) == 0;
	}
	if (!http_url_host_name(h, n))
		return 0;
	for (last = n; last > 0 && h[last - 1] != '.'; last--)
		;
	if (isalpha((unsigned char)h[last]))
		return 1;
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, h, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, &a4) == 1;
}

/* The N bytes at S, as a string of their own. */
static char *
http_strndup(const char *s, size_t n)
{
	char	*d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * An http:// or https:// URL in parts without libcurl, so that rules
 * without redirects never load it (include/lazylib.h): the common form
 * only, http[s]://HOST[:PORT][/PATH][?QUERY], in what curl's parser keeps
 * as it is.  -1 for anything else (a user, a fragment, %-escapes, "." or ".."
 * segments, a host curl would rewrite): curl's parser reads those, as
 * before.  tests/unit/test_http_url.c and fuzz_http hold the two to the
 * same parts.
 */
int
check_http_plain_url(const char *url, struct check_http_url *u)
{
	const char	*h, *s, *path;
	long		 port, dflt;
	size_t		 n;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(url, "http://", 7) == 0) {
		h = url + 7;
		dflt = 80;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		h = url + 8;
		dflt = 443;
	} else
		return -1;
	port = dflt;
	n = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
	if (!http_url_host(h, n))
		return -1;
	s = h + n;
	if (*s == ':') {
		/* 1-65535, no sign, no leading 0 */
		if (s[1] < '1' || s[1] > '9')
			return -1;
		for (port = 0, s++; isdigit((unsigned char)*s) &&
		    port <= 65535; s++)
			port = port * 10 + (*s - '0');
		if (port > 65535)
			return -1;
	}
	if (*s != '\0' && *s != '/' && *s != '?')
		return -1;
	path = s;
	while (*s != '\0' && *s != '?' && http_url_char((unsigned char)*s))
		s++;
	if (http_url_dots(path, (size_t)(s - path)))
		return -1;
	if (*s == '?') {
		if (s[1] == '\0')
			return -1;
		u->query = xstrdup(s + 1);
		for (s++; *s != '\0' && (http_url_char((unsigned char)*s) ||
		    *s == '?'); s++)
			;
	}
	if (*s != '\0') {
		free(u->query);
		u->query = NULL;
		return -1;
	}
	u->host = http_strndup(h, n);
	u->portnum = (int)port;
	if (port != dflt)
		xasprintf(&u->port, "%ld", port);
	if (path == s || *path != '/')
		u->path = xstrdup("/");
	else
		u->path = http_strndup(path, strcspn(path, "?"));
	return 0;
}

/* The same parts from curl's parser, for every other URL. */
static int
http_url_curl(struct conf_parser *p, const char *url,
    struct check_http_url *u)
{
	CURLU		*cu;
	CURLUcode	 rc;
	char		*part = NULL;
	int		 ret = -1;

	memset(u, 0, sizeof(*u));
	if ((cu = curl_url()) == NULL)
		fatalx("curl_url failed");
#define PART(what, flags)	(curl_url_get(cu, what, &part, flags) ==	\
	CURLUE_OK ? xstrdup(part) : NULL)
	if ((rc = curl_url_set(cu, CURLUPART_URL, url, 0)) != CURLUE_OK) {
		conf_error(p, "http check: \"%s\": %s", url,
		    curl_url_strerror(rc));
		goto out;
	}
	if ((u->host = PART(CURLUPART_HOST, 0)) == NULL || *u->host == '\0') {
		conf_error(p, "http check: \"%s\": no host", url);
		goto out;
	}
	curl_free(part);
	part = NULL;
	if (curl_url_get(cu, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		conf_error(p, "http check: \"%s\": no port", url);
		goto out;
	}
	u->portnum = atoi(part);
	curl_free(part);
	part = NULL;
	u->port = PART(CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
	curl_free(part);
	part = NULL;
	if ((u->path = PART(CURLUPART_PATH, 0)) == NULL) {
		conf_error(p, "http check: \"%s\": bad URL", url);
		goto out;
	}
	curl_free(part);
	part = NULL;
	u->query = PART(CURLUPART_QUERY, 0);
#undef PART
	ret = 0;
out:
	curl_free(part);
	curl_url_cleanup(cu);
	if (ret == -1)
		check_http_url_free(u);
	return ret;
}

/* The URL's port, and its host if a name to resolve. */
static int
http_url_target(struct conf_parser *p, struct check_conf *cc,
    struct http_opts *o, const struct check_http_url *u)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	char		*host = xstrdup(u->host);
	size_t		 n = strlen(host);
	int		 ret = 0;

	o->port = u->portnum;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6) != 1) {
			conf_error(p, "http check: \"%s\": bad address",
			    cc->target);
			ret = -1;
		}
	} else if (inet_pton(AF_INET, host, &a4) != 1) {
		o->host = host;
		host = NULL;
	}
	free(host);
	return ret;
}

/* A header of the user's named NAME ("Host"), which replaces ours. */
static int
http_user_header(const struct http_opts *o, const char *name)
{
	size_t	 n = strlen(name), i;

	for (i = 0; i < o->nheaders; i++)
		if (strncasecmp(o->headers[i], name, n) == 0 &&
		    o->headers[i][n] == ':')
			return 1;
	return 0;
}

static void
http_append(char **buf, size_t *len, const char *a, const char *b,
    const char *c)
{
	size_t	 n = strlen(a) + strlen(b) + strlen(c);

	*buf = xrealloc(*buf, *len + n + 1);
	snprintf(*buf + *len, n + 1, "%s%s%s", a, b, c);
	*len += n;
}

/*
 * The request a plain check sends, made once for all its probes, in two
 * parts kept with the rules (struct http_opts): what curl would send
 * (Host, User-Agent, Accept, the user's headers, which replace those of
 * the same name; one with no value is not sent, as with curl).  For a
 * URL with an address, the address too.
 */
static void
http_plain_request(struct conf_parser *p, struct http_opts *o,
    const struct check_http_url *u)
{
	const char	*v;
	char		*buf = NULL;
	size_t		 len = 0, i;

	http_append(&buf, &len, o->head ? "HEAD " : "GET ", u->path,
	    u->query != NULL ? "?" : "");
	http_append(&buf, &len, u->query != NULL ? u->query : "", "", "");
	o->req_line = conf_parser_strdup(p, buf);
	o->request_len = len;
	free(buf);
	buf = NULL;
	len = 0;
	http_append(&buf, &len, " HTTP/1.1\r\n", "", "");
	if (!http_user_header(o, "Host"))
		http_append(&buf, &len, "Host: ", u->host, u->port != NULL ?
		    ":" : "");
	if (!http_user_header(o, "Host"))
		http_append(&buf, &len, u->port != NULL ? u->port : "",
		    "\r\n", "");
	if (!http_user_header(o, "User-Agent"))
		http_append(&buf, &len, "User-Agent: " HTTP_USER_AGENT "\r\n",
		    "", "");
	if (!http_user_header(o, "Accept"))
		http_append(&buf, &len, "Accept: */*\r\n", "", "");
	for (i = 0; i < o->nheaders; i++) {
		if ((v = strchr(o->headers[i], ':')) == NULL)
			continue;	/* http_valid_header made sure */
		v += 1 + strspn(v + 1, " \t");
		if (*v != '\0')
			http_append(&buf, &len, o->headers[i], "\r\n", "");
	}
	http_append(&buf, &len, "\r\n", "", "");
	o->req_rest = conf_parser_intern(p, buf);
	o->request_len += len;
	free(buf);
}

/* A URL's address (no name to resolve) as a socket address. */
static void
http_plain_addr(struct conf_parser *p, const struct check_conf *cc,
    struct http_opts *o)
{
	struct sockaddr_in	*sin = &o->addr.sin;
	struct sockaddr_in6	*sin6 = &o->addr.sin6;
	const char		*h = strstr(cc->target, "://") + 3;
	char			 ip[INET6_ADDRSTRLEN + 2];
	size_t			 n;

	if (*h == '[') {
		h++;
		n = strcspn(h, "]");
	} else
		n = strcspn(h, ":/?#");
	if (n >= sizeof(ip))
		return;
	memcpy(ip, h, n);
	ip[n] = '\0';
	memset(&o->addr, 0, sizeof(o->addr));
	if (o->https)
		o->tls_ip = conf_parser_intern(p, ip);	/* the certificate's */
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)o->port);
		o->addrlen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)o->port);
		o->addrlen = sizeof(*sin6);
	}
}

/* RTOWATCH_HTTP_CLIENT=curl: plain checks through curl too (the tests). */
static int
http_client_curl(void)
{
	const char	*client = getenv("RTOWATCH_HTTP_CLIENT");

	return client != NULL && strcmp(client, "curl") == 0;
}

static int
http_finish(struct conf_parser *p, struct check_conf *cc)
{
	struct http_opts	*o = http_opts(cc);
	struct check_http_url	 u;
	char			 err[TLS_ERR_MAX];
	int			 plain, ret = -1;

	if (strncasecmp(cc->target, "https://", 8) == 0)
		o->https = 1;
	else if (strncasecmp(cc->target, "http://", 7) != 0) {
		conf_error(p, "http check: \"%s\" is not an http:// or "
		    "https:// URL", cc->target);
		return -1;
	}
	if (o->cert_expiry_ms > 0 && !o->https) {
		conf_error(p, "http check of %s: cert-expiry needs an "
		    "https:// URL", cc->target);
		return -1;
	}
	if (o->contains != NULL && o->head) {
		conf_error(p, "http check of %s: contains needs a body, "
		    "not method HEAD", cc->target);
		return -1;
	}
	/*
	 * Without redirects: on the loop, without curl (https with OpenSSL,
	 * tls_client.c), and in the common form parsed without it too.
	 * Everything else needs libcurl, loaded now.
	 */
	plain = !o->follow;
	if (!plain || http_client_curl() ||
	    check_http_plain_url(cc->target, &u) == -1) {
		if (conf_need_lib(p, LAZYLIB_CURL, o->https ?
		    "an https:// check" : "an http check with redirects or an "
		    "unusual URL") == -1 ||
		    http_url_curl(p, cc->target, &u) == -1)
			return -1;
	}
	if (http_url_target(p, cc, o, &u) == -1)
		goto out;
	if (plain) {
		http_plain_request(p, o, &u);
		if (o->host == NULL)
			http_plain_addr(p, cc, o);
	}
	/*
	 * The CA store is read now, once for every check naming it: a file
	 * that cannot be read is an error in the rules, not a failing
	 * service.
	 */
	if (plain && o->https && !http_client_curl() &&
	    conf_need_lib(p, LAZYLIB_TLS, "an https:// check") == -1)
		goto out;
	if (plain && o->https && !http_client_curl() &&
	    (o->tls = tls_ctx_get(o->ca_file, err, sizeof(err))) == NULL) {
		if (o->ca_file != NULL)
			conf_error(p, "ca-file \"%s\": cannot be read: %s",
			    o->ca_file, err);
		else
			conf_error(p, "https check of %s: the system's CA "
			    "certificates cannot be read: %s", cc->target,
			    err);
		goto out;
	}
	ret = 0;
out:
	check_http_url_free(&u);
	return ret;
}

static void
http_describe(const struct check_conf *cc, char *buf, size_t len)
{
	const struct http_opts	*o = cc->opts;

	snprintf(buf, len, "http%s %s", o->head ? " HEAD" : "", cc->target);
}

static void
http_free_opts(struct check_conf *cc)
{
	struct http_opts	*o = cc->opts;
	size_t			 i;

	for (i = 0; i < o->nheaders; i++)
		free(o->headers[i]);
	free(o->headers);
	free(o->contains);
	free(o->host);
	tls_ctx_put(o->tls);
	free(o);
	cc->opts = NULL;
}

/* ------------------------------------------------------ curl on the loop */

static void
http_done(CURL *easy, CURLcode code, void *arg)
{
	struct http_state	*s;
	char			*priv = NULL;

	(void)arg;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	s = (struct http_state *)(void *)priv;
	if (s != NULL)
		http_finished(s, code);
}

/*
 * curl's multi handle, made at the first probe that needs curl: rules
 * without one never load libcurl (include/lazylib.h), and the parser of
 * those with one has loaded it.  NULL if curl cannot make it.
 */
static struct curlev *
http_curlev(void)
{
	const curl_version_info_data	*v;

	if (http_curl != NULL || http_base == NULL)
		return http_curl;
	if ((http_curl = curlev_new(http_base, "http", http_done, NULL)) ==
	    NULL)
		return NULL;
	v = curl_version_info(CURLVERSION_NOW);
	if (!(v->features & CURL_VERSION_SSL))
		log_warnx("http: libcurl %s has no TLS: https checks will "
		    "fail", v->version);
	http_ca_bundle = v->cainfo != NULL;
	return http_curl;
}

static int
http_init(struct event_base *base, struct evdns_base *dns)
{
	(void)dns;	/* each probe gets it as p->dns */
	http_base = base;
	http_curl_only = http_client_curl();
	return 0;
}

static void
http_shutdown(void)
{
	curlev_free(http_curl);
	http_curl = NULL;
	http_base = NULL;
}

/* ------------------------------------------------------------- a probe */

static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_state	*s = arg;
	size_t			 n = size * nmemb;

	/* Anything short of n stops the transfer: the cap was reached. */
	return check_http_body_add(&s->body, data, n) == n ? n : 0;
}

static size_t
http_header_cb(char *data, size_t size, size_t nitems, void *arg)
{
	struct http_state	*s = arg;
	size_t			 n = size * nitems;
	int			 code;

	/* The last status line wins: that of the final response. */
	if (check_http_status_line(data, n, &code, s->reason,
	    sizeof(s->reason)) == -1 && n >= 5 &&
	    memcmp(data, "HTTP/", 5) == 0)
		s->reason[0] = '\0';
	return n;
}

static enum probe_result
http_errno_result(long error)
{
	switch (error) {
	case ECONNREFUSED:
	case ECONNRESET:
		return PROBE_REFUSED;
	case ETIMEDOUT:
		return PROBE_TIMEOUT;
	default:
		return PROBE_UNREACHABLE;
	}
}

static int
http_tls_code(CURLcode code)
{
	switch (code) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

/* The transfer failed before an answer could be judged. */
static void
http_failed(struct http_state *s, CURLcode code)
{
	struct probe	*p = s->probe;
	const char	*why = s->errbuf[0] != '\0' ? s->errbuf :
			    curl_easy_strerror(code);
	long		 error = 0;

	curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &error);
	if (code == CURLE_OUT_OF_MEMORY || probe_errno_local((int)error))
		/* This host ran out of descriptors or memory, not the target. */
		probe_done(p, PROBE_LOCAL_ERROR, "%s", error != 0 ?
		    strerror((int)error) : why);
	else if (code == CURLE_COULDNT_CONNECT) {
		probe_done(p, http_errno_result(error), "%s",
		    error != 0 ? strerror((int)error) : why);
	} else if (code == CURLE_COULDNT_RESOLVE_HOST)
		probe_done(p, PROBE_DNS_FAILURE, "%s", why);
	else if (code == CURLE_OPERATION_TIMEDOUT)
		probe_done(p, PROBE_TIMEOUT, "%s", why);
	else if (http_tls_code(code) && strcasestr(why, "expired") != NULL)
		/* With verification on, curl refuses an expired certificate. */
		probe_done(p, PROBE_CERT_EXPIRED, "certificate has expired "
		    "(%s)", why);
	else if (http_tls_code(code))
		probe_done(p, PROBE_TLS_ERROR, "%s", why);
	else
		probe_done(p, PROBE_ERROR, "%s", why);
}

/* The leaf certificate's expiry, from curl's CURLINFO_CERTINFO. */
static int
http_cert_expiry(CURL *easy, int64_t *when)
{
	struct curl_certinfo	*ci = NULL;
	struct curl_slist	*sl;

	if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs < 1)
		return -1;
	for (sl = ci->certinfo[0]; sl != NULL; sl = sl->next)
		if (strncasecmp(sl->data, "Expire date:", 12) == 0)
			return check_http_parse_date(sl->data + 12, when);
	return -1;
}

/* Phase times, from the start of the probe, as "(dns 0, connect 1, ...)". */
static int64_t
http_times(struct http_state *s, char *buf, size_t len)
{
	curl_off_t	 dns = 0, conn = 0, tls = 0, first = 0, total = 0;
	long long	 d = s->dns_ms, t_dns, t_conn, t_tls, t_first;

	curl_easy_getinfo(s->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
	curl_easy_getinfo(s->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &total);
	/* curl counts microseconds from its start, after our lookup. */
	t_dns = d + dns / 1000;
	t_conn = d + conn / 1000;
	t_tls = d + tls / 1000;
	t_first = d + first / 1000;
	if (tls > 0)
		snprintf(buf, len, "(dns %lld, connect %lld, tls %lld, first "
		    "byte %lld)", t_dns, t_conn, t_tls, t_first);
	else
		snprintf(buf, len, "(dns %lld, connect %lld, first byte "
		    "%lld)", t_dns, t_conn, t_first);
	return d + total / 1000;
}

static void
http_status_range(const struct http_opts *o, char *buf, size_t len)
{
	if (o->status_lo == o->status_hi)
		snprintf(buf, len, "%d", o->status_lo);
	else
		snprintf(buf, len, "%d-%d", o->status_lo, o->status_hi);
}

/* The transfer ended: judge the answer. */
static void
http_finished(struct http_state *s, CURLcode code)
{
	struct probe		*p = s->probe;
	const struct http_opts	*o = p->check->opts;
	char			 times[96];
	int64_t			 total, expires;
	long			 status = 0;

	/* Stopped at the cap on purpose: what was read is the body. */
	if (code == CURLE_WRITE_ERROR && s->body.capped)
		code = CURLE_OK;
	if (code != CURLE_OK) {
		http_failed(s, code);
		return;
	}
	total = http_times(s, times, sizeof(times));
	p->rtt_ms = total;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);

	if (o->cert_expiry_ms > 0) {
		if (http_cert_expiry(s->easy, &expires) == -1)
			expires = -1;
		if (http_cert_judged(p, expires))
			return;
	}
	http_judge(s, status, total, times);
}

/*
 * cert-expiry: the leaf certificate's notAfter (epoch seconds, -1 when
 * unknown) against the bound.  1 when that decided the probe.
 */
static int
http_cert_judged(struct probe *p, int64_t expires)
{
	const struct http_opts	*o = p->check->opts;
	char			 date[32], d[32];
	int64_t			 left;

	if (expires == -1) {
		probe_done(p, PROBE_TLS_ERROR, "no certificate expiry date "
		    "to check");
		return 1;
	}
	left = expires * 1000 - wall_ms();
	check_http_date_fmt(expires, date, sizeof(date));
	if (left <= 0) {
		probe_done(p, PROBE_CERT_EXPIRED, "certificate expired %s",
		    date);
		return 1;
	}
	if (left < o->cert_expiry_ms) {
		probe_done(p, PROBE_CERT_EXPIRING, "certificate expires %s, "
		    "within %s", date, duration_fmt(o->cert_expiry_ms, d,
		    sizeof(d)));
		return 1;
	}
	return 0;
}

/* An answer came, in TOTAL ms: its status, then its body. */
static void
http_judge(struct http_state *s, long status, int64_t total,
    const char *times)
{
	struct probe		*p = s->probe;
	const struct http_opts	*o = p->check->opts;
	char			 want[16];

	p->rtt_ms = total;
	if (status < o->status_lo || status > o->status_hi) {
		http_status_range(o, want, sizeof(want));
		probe_done(p, PROBE_BAD_STATUS, "status %ld%s%s, expected %s",
		    status, s->reason[0] != '\0' ? " " : "", s->reason, want);
		return;
	}
	if (o->contains != NULL &&
	    !check_http_body_contains(&s->body, o->contains)) {
		probe_done(p, PROBE_CONTENT_MISMATCH, "body does not contain "
		    "\"%.80s\"%s", o->contains, s->body.capped ?
		    " (in its first 1 MiB)" : "");
		return;
	}
	probe_done(p, PROBE_OK, "%ld%s%s in %lld ms %s", status,
	    s->reason[0] != '\0' ? " " : "", s->reason, (long long)total,
	    times);
}

static void
http_setopt_failed(CURLcode rc)
{
	fatalx("http: curl_easy_setopt: %s", curl_easy_strerror(rc));
}

/* Hand the transfer to curl, with the address evdns found for the host. */
static void
http_transfer(struct probe *p, const char *resolve)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	CURL			*e;
	CURLcode		 rc;
	size_t			 i;

#define SET(opt, val)	do {						\
	if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK)		\
		http_setopt_failed(rc);					\
} while (0)

	if (http_curlev() == NULL) {
		probe_done(p, PROBE_ERROR, "http probes are not set up");
		return;
	}
	/* Probe the service itself, never through a proxy from the env. */
	if ((e = s->easy = curlev_easy(http_curl, p->check->target, s,
	    s->errbuf, "http,https")) == NULL) {
		probe_done(p, PROBE_LOCAL_ERROR, "curl_easy_init failed");
		return;
	}
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)(p->check->timeout_ms +
	    HTTP_CURL_GRACE_MS));
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(p->check->timeout_ms +
	    HTTP_CURL_GRACE_MS));
	SET(CURLOPT_USERAGENT, HTTP_USER_AGENT);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		SET(CURLOPT_CAINFO, o->ca_file);
	/*
	 * curl keeps the CA store it parsed in the multi handle (CA cache),
	 * but not with a CA directory, which Debian's curl sets by default:
	 * without this, every probe reads and parses the CA file anew.  The
	 * bundle holds the same certificates as the directory.
	 */
	if (http_ca_bundle)
		SET(CURLOPT_CAPATH, NULL);
	/*
	 * A plain request goes out in one write, so Nagle never holds it:
	 * spare the setsockopt per probe.  A TLS handshake writes several
	 * times and keeps curl's default.
	 */
	if (!o->https)
		SET(CURLOPT_TCP_NODELAY, 0L);
	if (o->cert_expiry_ms > 0)
		SET(CURLOPT_CERTINFO, 1L);
	if (o->head)
		SET(CURLOPT_NOBODY, 1L);
	if (o->follow) {
		SET(CURLOPT_FOLLOWLOCATION, 1L);
		SET(CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRS);
	}
	SET(CURLOPT_WRITEFUNCTION, http_write_cb);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_HEADERFUNCTION, http_header_cb);
	SET(CURLOPT_HEADERDATA, s);
	for (i = 0; i < o->nheaders; i++)
		if ((s->headers = curl_slist_append(s->headers,
		    o->headers[i])) == NULL)
			fatalx("http: curl_slist_append failed");
	if (s->headers != NULL)
		SET(CURLOPT_HTTPHEADER, s->headers);
	if (resolve != NULL) {
		if ((s->resolve = curl_slist_append(NULL, resolve)) == NULL)
			fatalx("http: curl_slist_append failed");
		SET(CURLOPT_RESOLVE, s->resolve);
	}
#undef SET

	if (curlev_add(http_curl, e) == -1) {
		probe_done(p, PROBE_LOCAL_ERROR,
		    "curl_multi_add_handle failed");
		return;
	}
	s->added = 1;
}

/* ------------------------------------------------ a plain request */

static void	http_plain_cb(evutil_socket_t, short, void *);
static void	http_plain_next(struct probe *, int);
static void	http_tls_io(struct probe *);
static int	http_plain_feed(struct probe *, const char *, size_t);

/* Done with the current socket (a failed address, or the end). */
static void
http_plain_close(struct http_state *s)
{
	tls_conn_free(s->tls);
	s->tls = NULL;
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
}

/* The answer is complete: judge it as curl's would be. */
static void
http_plain_answered(struct probe *p)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	char			 times[96];
	int64_t			 total = mono_ms() - p->started_mono;

	if (s->handshaken)
		snprintf(times, sizeof(times), "(dns %lld, connect %lld, tls "
		    "%lld, first byte %lld)", (long long)s->dns_ms,
		    (long long)s->t_conn, (long long)s->t_tls,
		    (long long)s->t_first);
	else
		snprintf(times, sizeof(times), "(dns %lld, connect %lld, "
		    "first byte %lld)", (long long)s->dns_ms,
		    (long long)s->t_conn, (long long)s->t_first);
	memcpy(s->reason, s->resp->reason, sizeof(s->reason));
	http_plain_close(s);
	/* As curl's: the answer first, then the certificate's date. */
	if (o->cert_expiry_ms > 0) {
		p->rtt_ms = total;
		if (http_cert_judged(p, s->not_after))
			return;
	}
	http_judge(s, s->resp->code, total, times);
}

/*
 * Send what the socket takes, then read what it has.  The event is edge
 * triggered (read and write, added once): each wake-up reads until the
 * kernel has no more, and the probe costs one epoll_ctl to add and one to
 * remove.
 */
static void
http_plain_io(struct probe *p)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	char			 buf[16384];
	ssize_t			 n;

	if (s->tls != NULL) {
		http_tls_io(p);
		return;
	}
	while (s->sent < o->request_len) {
		n = send(s->fd, s->request + s->sent, o->request_len - s->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			probe_done(p, errno == ECONNRESET || errno == EPIPE ?
			    PROBE_REFUSED : PROBE_ERROR, "Send failure: %s",
			    strerror(errno));
			return;
		}
		s->sent += (size_t)n;
	}
	for (;;) {
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			probe_done(p, PROBE_ERROR, "Recv failure: %s",
			    strerror(errno));
			return;
		}
		if (http_plain_feed(p, buf, (size_t)n))
			return;
	}
}

/* One piece of the answer, N bytes (0: the end): 1 when the probe ended. */
static int
http_plain_feed(struct probe *p, const char *buf, size_t n)
{
	struct http_state	*s = p->priv;
	int			 rc;

	if (n > 0 && s->t_first == -1)
		s->t_first = mono_ms() - p->started_mono;
	rc = n == 0 ? http_resp_eof(s->resp) :
	    http_resp_feed(s->resp, buf, n, &s->body);
	if (rc == HTTP_RESP_DONE) {
		http_plain_answered(p);
		return 1;
	}
	if (rc == HTTP_RESP_ERROR) {
		probe_done(p, PROBE_ERROR, "%s", s->resp->error);
		return 1;
	}
	return 0;
}

/*
 * The same over TLS (tls_client.c): the request, then the answer, each
 * as far as the connection goes before it must wait for the socket.
 */
static void
http_tls_io(struct probe *p)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	char			 buf[16384], err[TLS_ERR_MAX];
	size_t			 n;
	int			 rc;

	rc = tls_conn_write(s->tls, s->request, o->request_len, &s->sent,
	    err, sizeof(err));
	if (rc == TLS_FAIL) {
		probe_done(p, PROBE_ERROR, "%s", err);
		return;
	}
	if (rc == TLS_WANT)
		return;
	for (;;) {
		rc = tls_conn_read(s->tls, buf, sizeof(buf), &n, err,
		    sizeof(err));
		if (rc == TLS_WANT)
			return;
		if (rc == TLS_FAIL) {
			probe_done(p, PROBE_ERROR, "%s", err);
			return;
		}
		if (http_plain_feed(p, buf, rc == TLS_EOF ? 0 : n))
			return;
		if (rc == TLS_EOF) {	/* http_resp_eof always ends it */
			probe_done(p, PROBE_ERROR, "%s", err);
			return;
		}
	}
}

/*
 * The TLS handshake, as far as the socket allows: 1 once it ended with
 * the certificate verified, 0 while it waits or when the probe ended.
 */
static int
http_tls_handshake(struct probe *p)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	char			 err[TLS_ERR_MAX], date[32];
	int64_t			 when;
	int			 rc;

	/*
	 * A probe that lent its slot while TCP went unanswered takes one
	 * again (or waits for it) before it builds its TLS state: else the
	 * handshakes in flight, and their memory, pass the cap.
	 */
	if (s->tls == NULL && !probe_gate(p)) {
		s->gated = 1;
		return 0;
	}
	if (s->tls == NULL && (s->tls = tls_conn_new(o->tls, s->fd, o->host,
	    o->tls_ip)) == NULL) {
		probe_done(p, PROBE_LOCAL_ERROR, "cannot set up TLS");
		return 0;
	}
	switch (rc = tls_conn_handshake(s->tls, err, sizeof(err))) {
	case TLS_WANT:
		return 0;
	case TLS_DONE:
		s->handshaken = 1;
		s->t_tls = mono_ms() - p->started_mono;
		if (o->cert_expiry_ms > 0 &&
		    tls_conn_not_after(s->tls, &s->not_after) == -1)
			s->not_after = -1;
		return 1;
	case TLS_EXPIRED:
		if (tls_conn_not_after(s->tls, &when) == 0)
			probe_done(p, PROBE_CERT_EXPIRED, "certificate has "
			    "expired: not valid after %s (%s)",
			    check_http_date_fmt(when, date, sizeof(date)),
			    err);
		else
			probe_done(p, PROBE_CERT_EXPIRED, "certificate has "
			    "expired (%s)", err);
		return 0;
	default:
		(void)rc;
		probe_done(p, PROBE_TLS_ERROR, "%s", err);
		return 0;
	}
}

static void
http_plain_cb(evutil_socket_t fd, short events, void *arg)
{
	struct probe		*p = arg;
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	socklen_t		 len = sizeof(int);
	int			 error = 0;

	(void)events;
	if (!s->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
			error = errno;
		if (error == EINPROGRESS)
			return;
		if (error != 0) {
			http_plain_close(s);
			http_plain_next(p, error);
			return;
		}
		s->connected = 1;
		s->t_conn = mono_ms() - p->started_mono;
	}
	if (s->gated)
		return;		/* until http_resume */
	if (o->https && !s->handshaken && !http_tls_handshake(p))
		return;
	http_plain_io(p);
}

/*
 * Connect to the next address, as curl tries each it was given; ERROR is
 * why the last one failed, reported when none is left.
 */
static void
http_plain_next(struct probe *p, int error)
{
	struct http_state	*s = p->priv;
	int			 i;

	while ((i = s->next) < s->naddrs) {
		s->next++;
		s->fd = socket(s->addrs[i].sa.sa_family, SOCK_STREAM |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd == -1) {
			error = errno;
			continue;
		}
		if (connect(s->fd, &s->addrs[i].sa,
		    s->addrlens[i]) == 0)
			s->connected = 1;
		else if (errno != EINPROGRESS) {
			error = errno;
			http_plain_close(s);
			continue;
		}
		if ((s->ev = event_new(p->base, s->fd, EV_READ | EV_WRITE |
		    EV_ET | EV_PERSIST, http_plain_cb, p)) == NULL)
			fatalx("http: event_new failed");
		event_add(s->ev, NULL);
		if (s->connected)
			s->t_conn = mono_ms() - p->started_mono;
		return;
	}
	if (probe_errno_local(error))
		probe_done(p, PROBE_LOCAL_ERROR, "%s", strerror(error));
	else
		probe_done(p, http_errno_result(error), "%s", strerror(error));
}

/* Addresses to try; the port is the URL's. */
static void
http_plain_add(struct http_state *s, const struct sockaddr *sa,
    socklen_t len, int port)
{
	union http_sa	*a;

	if (s->naddrs == HTTP_MAX_ADDRS || len > sizeof(*a))
		return;
	a = &s->addrs[s->naddrs];
	memcpy(a, sa, len);
	if (a->sa.sa_family == AF_INET)
		a->sin.sin_port = htons((uint16_t)port);
	else if (a->sa.sa_family == AF_INET6)
		a->sin6.sin6_port = htons((uint16_t)port);
	else
		return;
	s->addrlens[s->naddrs++] = len;
}

static void
http_plain_start(struct probe *p)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	size_t			 n = strlen(o->req_line);

	s->request = xmalloc(o->request_len);
	memcpy(s->request, o->req_line, n);
	memcpy(s->request + n, o->req_rest, o->request_len - n);
	s->resp = xmalloc(sizeof(*s->resp));
	http_resp_init(s->resp, o->head);
	http_plain_next(p, EHOSTUNREACH);
}

/* "host:port:addr,[addr6],...": curl's form for CURLOPT_RESOLVE. */
static void
http_resolved(struct probe *p, const struct addrinfo *ai)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	const struct addrinfo	*a;
	const void		*addr;
	char			 resolve[512], ip[INET6_ADDRSTRLEN];
	size_t			 len;
	int			 n = 0;

	s->dns_ms = mono_ms() - p->started_mono;
	if (s->plain) {
		for (a = ai; a != NULL; a = a->ai_next)
			http_plain_add(s, a->ai_addr, a->ai_addrlen, o->port);
		http_plain_start(p);
		return;
	}
	len = (size_t)snprintf(resolve, sizeof(resolve), "%s:%d:", o->host,
	    o->port);
	for (a = ai; a != NULL && n < HTTP_MAX_ADDRS &&
	    len < sizeof(resolve); a = a->ai_next) {
		if (a->ai_family == AF_INET)
			addr = &((const struct sockaddr_in *)(const void *)
			    a->ai_addr)->sin_addr;
		else if (a->ai_family == AF_INET6)
			addr = &((const struct sockaddr_in6 *)(const void *)
			    a->ai_addr)->sin6_addr;
		else
			continue;
		if (evutil_inet_ntop(a->ai_family, addr, ip,
		    sizeof(ip)) == NULL)
			continue;
		len += (size_t)snprintf(resolve + len, sizeof(resolve) - len,
		    a->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
		    n > 0 ? "," : "", ip);
		n++;
	}
	if (n == 0 || len >= sizeof(resolve)) {
		probe_done(p, PROBE_DNS_FAILURE, "cannot resolve %s: no "
		    "usable address", o->host);
		return;
	}
	http_transfer(p, resolve);
}

/* Does a probe of this check run on the loop, without libcurl? */
static int
http_plain_path(const struct http_opts *o)
{
	return o->req_line != NULL && !http_curl_only &&
	    (o->host != NULL || o->addrlen > 0) &&
	    (!o->https || o->tls != NULL);
}

/*
 * A transfer through libcurl holds its easy handle, its connection, a
 * TLS context and session with their buffers: about 100 kB while it runs
 * (tests/bench/bench_rss.py), where a plain request on the loop holds
 * a few hundred bytes.  A TLS handshake on the loop holds less than
 * curl's, but costs the CPU most of the probe's work: those too run at
 * most set https-concurrency at once, so a host that cannot keep up
 * makes its probes start late rather than time out.
 */
static int
http_pooled(const struct check_conf *cc)
{
	const struct http_opts	*o = cc->opts;

	return !http_plain_path(o) || o->https;
}

/*
 * Still before the TCP handshake: the name being looked up, or curl's
 * connection without a local port (it has one once TCP is up; see
 * http_expire), so no TLS state yet.
 */
static int
http_connecting(struct probe *p)
{
	struct http_state	*s = p->priv;
	long			 port = 0;

	if (s != NULL && s->plain)
		return s->tls == NULL && !s->connected;
	if (s == NULL)
		return 0;
	if (!s->added)
		return 1;
	if (curl_easy_getinfo(s->easy, CURLINFO_LOCAL_PORT, &port) !=
	    CURLE_OK)
		return 0;
	return port == 0;
}

/*
 * The slot http_tls_handshake waited for is ours: go on from the loop,
 * as the socket's event would (the write edge came and went).
 */
static void
http_resume(struct probe *p)
{
	struct http_state	*s = p->priv;

	if (s == NULL || !s->gated)
		return;
	s->gated = 0;
	event_active(s->ev, EV_WRITE, 0);
}

/* RFC 6761, 6.4: names under .invalid never resolve. */
static int
http_reserved_invalid(const char *host)
{
	size_t	 n = strlen(host);

	while (n > 0 && host[n - 1] == '.')
		n--;
	return (n == 7 && strncasecmp(host, "invalid", 7) == 0) ||
	    (n > 8 && strncasecmp(host + n - 8, ".invalid", 8) == 0);
}

static void
http_start(struct probe *p)
{
	const struct http_opts	*o = p->check->opts;
	struct http_state	*s;

	s = p->priv = xcalloc(1, sizeof(*s));
	s->probe = p;
	s->fd = -1;
	s->t_conn = s->t_first = s->t_tls = s->not_after = -1;
	s->body.limit = CHECK_HTTP_BODY_MAX;
	s->body.keep = o->contains != NULL;
	s->plain = http_plain_path(o);
	if (o->host == NULL && s->plain) {
		http_plain_add(s, &o->addr.sa,
		    o->addrlen, o->port);
		http_plain_start(p);
		return;
	}
	if (o->host == NULL) {
		http_transfer(p, NULL);
		return;
	}
	if (http_reserved_invalid(o->host)) {
		probe_done(p, PROBE_DNS_FAILURE, "cannot resolve %s: a "
		    "reserved name that never resolves (RFC 6761)", o->host);
		return;
	}
	probe_resolve(p, o->host, SOCK_STREAM, http_resolved);
}

/*
 * The check's timeout, with the step it caught, from curl's phase times
 * so far (0 for a step not reached).  curl times an https connection only
 * once TLS is up; the local port, set when TCP is, tells the step before.
 * A redirect's later steps are told as the first one's.
 */
static void
http_expire(struct probe *p, const char *within)
{
	struct http_state	*s = p->priv;
	const struct http_opts	*o = p->check->opts;
	curl_off_t		 conn = 0, tls = 0, first = 0;
	long			 local_port = 0;
	long long		 d;

	if (s != NULL && s->plain && s->resp != NULL) {
		if (!s->connected)
			probe_done(p, PROBE_TIMEOUT, "no answer to the "
			    "handshake within %s", within);
		else if (s->gated)
			probe_done(p, PROBE_TIMEOUT, "connected in %lld ms, "
			    "then waited for an https slot (set "
			    "https-concurrency) past %s", (long long)s->t_conn,
			    within);
		else if (o->https && !s->handshaken)
			probe_done(p, PROBE_TIMEOUT, "connected, but the TLS "
			    "handshake did not end within %s", within);
		else if (s->t_first == -1)
			probe_done(p, PROBE_TIMEOUT, "connected in %lld ms, "
			    "but no response within %s", (long long)s->t_conn,
			    within);
		else
			probe_done(p, PROBE_TIMEOUT, "the response began after "
			    "%lld ms but did not end within %s",
			    (long long)s->t_first, within);
		return;
	}
	if (s == NULL || !s->added)
		return;		/* probe.c says "no answer within" */
	d = s->dns_ms;
	curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
	curl_easy_getinfo(s->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
	curl_easy_getinfo(s->easy, CURLINFO_LOCAL_PORT, &local_port);
	if (conn == 0 && local_port == 0)
		probe_done(p, PROBE_TIMEOUT, "no answer to the handshake "
		    "within %s", within);
	else if (o->https && tls == 0)
		probe_done(p, PROBE_TIMEOUT, "connected, but the TLS "
		    "handshake did not end within %s", within);
	else if (first == 0)
		probe_done(p, PROBE_TIMEOUT, "connected in %lld ms, but no "
		    "response within %s", d + conn / 1000, within);
	else
		probe_done(p, PROBE_TIMEOUT, "the response began after %lld "
		    "ms but did not end within %s", d + first / 1000, within);
}

/*
 * Called once, by probe_done() or probe_cancel(): after it curl knows
 * nothing of this probe, so no callback can reach the freed state.
 */
static void
http_cancel(struct probe *p)
{
	struct http_state	*s = p->priv;

	if (s == NULL)
		return;
	if (s->easy != NULL) {
		if (s->added)
			curlev_remove(http_curl, s->easy);
		curl_easy_cleanup(s->easy);
	}
	http_plain_close(s);
	if (s->resp != NULL)
		http_resp_free(s->resp);
	free(s->resp);
	free(s->request);
	/* A plain probe made none: rules of those never load libcurl. */
	if (s->resolve != NULL)
		curl_slist_free_all(s->resolve);
	if (s->headers != NULL)
		curl_slist_free_all(s->headers);
	check_http_body_free(&s->body);
	free(s);
	p->priv = NULL;
}

const struct probe_ops probe_http_ops = {
	.name = "http",
	.init = http_init,
	.shutdown = http_shutdown,
	.option = http_option,
	.finish = http_finish,
	.describe = http_describe,
	.start = http_start,
	.pooled = http_pooled,
	.connecting = http_connecting,
	.resume = http_resume,
	.expire = http_expire,
	.cancel = http_cancel,
	.free_opts = http_free_opts,
};
