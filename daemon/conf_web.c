/*
 * conf_web.c: the web page's settings (web.c).
 *
 *	set web listen ADDRESS:PORT
 *	set web tls cert FILE key FILE
 *	set web public SYSTEM...
 *	set web metrics-token FILE
 *
 * The page is off unless "set web listen" names an address.  Beyond
 * loopback it is only served over TLS: a password typed into the sign-in
 * form must not cross the network in the clear, so an address that is
 * not 127.0.0.0/8 or ::1 without "set web tls" is an error of the rules,
 * found by rtowatchd -n, not a warning at start.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <event2/util.h>

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_parse.h"
#include "util.h"

#define CONF_WEB_MAX_PUBLIC	256
#define CONF_WEB_MIN_TOKEN	16
#define CONF_WEB_TOKEN_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789-._~+/="

/* Whether ADDR ("127.0.0.1:8080", "[::1]:8080") is a loopback one. */
int
conf_web_loopback(const char *addr)
{
	struct sockaddr_storage	 ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	int			 len = (int)sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	return 0;
}

static int
conf_web_listen(struct conf_parser *p, struct web_conf *w)
{
	struct sockaddr_storage	 ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	char			*value;
	int			 len = (int)sizeof(ss);

	if (conf_next_string(p, "address:port after \"web listen\"",
	    &value) == -1)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(value, (struct sockaddr *)&ss,
	    &len) == -1 || (ss.ss_family != AF_INET &&
	    ss.ss_family != AF_INET6) || sin->sin_port == 0)
		conf_error(p, "web listen: \"%s\" is not ADDRESS:PORT "
		    "(127.0.0.1:8080, [::1]:8080)", value);
	free(w->listen);
	w->listen = value;
	w->file = p->file;
	w->line = p->line;
	return conf_end_statement(p);
}

static int
conf_web_tls(struct conf_parser *p, struct web_conf *w)
{
	char	*value;

	if (conf_expect_word(p, "cert") == -1 ||
	    conf_next_string(p, "certificate file after \"cert\"",
	    &value) == -1)
		return -1;
	free(w->cert);
	w->cert = conf_path(p, value);
	free(value);
	if (conf_expect_word(p, "key") == -1 ||
	    conf_next_string(p, "key file after \"key\"", &value) == -1)
		return -1;
	free(w->key);
	w->key = conf_path(p, value);
	free(value);
	if (conf_end_statement(p) == -1)
		return -1;
	/* Over TLS the page signs people in with PAM (daemon/web.c). */
	if (conf_need_lib(p, LAZYLIB_TLS, "set web tls") == -1)
		return -1;
	return conf_need_lib(p, LAZYLIB_PAM, "set web tls (its sign-in)");
}

static int
conf_web_public(struct conf_parser *p, struct web_conf *w)
{
	char	*value;

	for (;;) {
		conf_next(p);
		if (conf_at_end(p)) {
			conf_pushback(p);
			break;
		}
		if (p->tok != TOK_WORD && p->tok != TOK_STRING) {
			conf_error(p, "web public: a system's name, not %s",
			    conf_tok_desc(p));
			return -1;
		}
		if (w->npublic >= CONF_WEB_MAX_PUBLIC) {
			conf_error(p, "web public: more than %d systems",
			    CONF_WEB_MAX_PUBLIC);
			return -1;
		}
		value = xstrdup(p->text);
		w->public = xrealloc(w->public, ((size_t)w->npublic + 1) *
		    sizeof(*w->public));
		w->public[w->npublic] = value;
		w->public_line = p->line;
		w->npublic++;
	}
	if (w->npublic == 0)
		conf_error(p, "web public: name the systems whose up/down "
		    "the public page shows");
	w->public_file = p->file;
	return conf_end_statement(p);
}

/*
 * The token a scraper elsewhere (Prometheus's authorization:
 * credentials_file) sends for /metrics, as no account signs in for it:
 * the first line of a file only the daemon's user may read, long enough
 * not to be guessed.
 */
static int
conf_web_metrics_token(struct conf_parser *p, struct web_conf *w)
{
	char	*value, *path, buf[512];
	ssize_t	 n;

	if (conf_next_string(p, "token file after \"metrics-token\"",
	    &value) == -1)
		return -1;
	path = conf_path(p, value);
	free(value);
	n = conf_read_secret(p, "web metrics-token", path, buf, sizeof(buf));
	if (n >= 0 && (n < CONF_WEB_MIN_TOKEN ||
	    strspn(buf, CONF_WEB_TOKEN_CHARS) != (size_t)n))
		conf_error(p, "web metrics-token \"%s\": expected a token of "
		    "%d to %zu letters, digits or -._~+/= on its first line "
		    "(openssl rand -base64 32)", path, CONF_WEB_MIN_TOKEN,
		    sizeof(buf) - 1);
	else if (n >= 0) {
		if (w->metrics_token != NULL)
			explicit_bzero(w->metrics_token,
			    strlen(w->metrics_token));
		free(w->metrics_token);
		w->metrics_token = xstrdup(buf);
	}
	explicit_bzero(buf, sizeof(buf));
	free(path);
	return conf_end_statement(p);
}

/* set web listen|tls|public|metrics-token ... */
int
conf_set_web(struct conf_parser *p, void *arg)
{
	struct conf	*conf = arg;
	char		*what;
	int		 rc;

	if (conf_next_string(p, "listen, tls, public or metrics-token after "
	    "\"set web\"", &what) == -1)
		return -1;
	if (strcmp(what, "listen") == 0)
		rc = conf_web_listen(p, &conf->web);
	else if (strcmp(what, "tls") == 0)
		rc = conf_web_tls(p, &conf->web);
	else if (strcmp(what, "public") == 0)
		rc = conf_web_public(p, &conf->web);
	else if (strcmp(what, "metrics-token") == 0)
		rc = conf_web_metrics_token(p, &conf->web);
	else {
		conf_error(p, "set web %s: listen, tls, public or "
		    "metrics-token", what);
		rc = -1;
	}
	free(what);
	return rc;
}

void
conf_check_web(struct conf *conf, struct conf_errors *errs)
{
	struct web_conf	*w = &conf->web;
	int		 i;

	if (w->listen != NULL && w->cert == NULL &&
	    !conf_web_loopback(w->listen))
		conf_error_at(errs, w->file, w->line, "web listen %s is "
		    "beyond loopback: it needs \"set web tls cert FILE key "
		    "FILE\" (passwords are not sent in the clear), or listen "
		    "on 127.0.0.1 or [::1]", w->listen);
	for (i = 0; i < w->npublic; i++)
		if (conf_find_system(conf, w->public[i]) == NULL)
			conf_error_at(errs, w->public_file, w->public_line,
			    "web public: no system \"%s\"", w->public[i]);
}

void
conf_free_web(struct web_conf *w)
{
	int	 i;

	free(w->listen);
	free(w->cert);
	free(w->key);
	for (i = 0; i < w->npublic; i++)
		free(w->public[i]);
	free(w->public);
	if (w->metrics_token != NULL)
		explicit_bzero(w->metrics_token, strlen(w->metrics_token));
	free(w->metrics_token);
	memset(w, 0, sizeof(*w));
}

static char *
conf_strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/*
 * The web listener keeps its own copy of the settings in force, since a
 * reload frees the rules they were read from.  The places they were
 * read at go with those rules and are not copied.
 */
void
conf_copy_web(struct web_conf *dst, const struct web_conf *src)
{
	int	 i;

	conf_free_web(dst);
	dst->listen = conf_strdup_or_null(src->listen);
	dst->cert = conf_strdup_or_null(src->cert);
	dst->key = conf_strdup_or_null(src->key);
	dst->public = xcalloc((size_t)src->npublic + 1, sizeof(*dst->public));
	for (i = 0; i < src->npublic; i++)
		dst->public[i] = xstrdup(src->public[i]);
	dst->npublic = src->npublic;
	dst->metrics_token = conf_strdup_or_null(src->metrics_token);
}
