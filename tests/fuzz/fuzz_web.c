/*
 * fuzz_web.c: libFuzzer harness for the web listener (set web listen).
 *
 * Each input is the bytes a browser or any other client sends to the
 * listener: request line, headers (Cookie, Authorization, Host...), query
 * strings, a POST /signin body, or anything else.  The harness runs the
 * real listener (evhttp on loopback TCP, plain HTTP, web_request_cb and
 * every page, the control socket's routes through control_read and
 * control_serve, the store in memory) for a bounded number of loop turns
 * an input.  The caller is who the kernel says owns the client's socket:
 * this process's account, root, an operator.
 *
 * An input that names /events adds a timeline row (its own bytes as the
 * detail) while it runs, so that what follows the stream gets an event.
 *
 * Nothing forks: web_set_cli(w, NULL) turns the printed forms (children
 * of rtowatch) into 503s; and no PAM thread starts, as sign-in is only
 * over TLS (POST /signin answers 403 over plain HTTP).
 *
 * Besides not crashing or leaking, every reply the listener completes
 * must have an HTTP status, a 303 its Location, and a body as its type
 * says: HTML that is a whole page of ours (or evhttp's own error page,
 * or the status page's part that the page redraws),
 * without any tag the input brought ("<fuzz"), a JSON object, or the
 * metrics' text lines.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "engine.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "web.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_TURNS	64	/* loop turns per input */
#define FUZZ_EVENTS	20000	/* timeline rows the inputs may add */

/* Also in the seeds: "Authorization: Bearer " this. */
#define FUZZ_TOKEN	"fuzz-metrics-token-0123456789abcdef0123456789"

static const char rules_fmt[] =
    "set database \":memory:\"\n"
    "set web listen \"127.0.0.1:%u\"\n"
    "set web public \"web\"\n"
    "set web metrics-token \"%s\"\n"
    "category \"DOS\" \"阻斷服務\" \"denial of service\"\n"
    "policy {\n"
    "  notify within 1h\n"
    "  remind notify 30m before\n"
    "  restore within 72h for levels 1-2\n"
    "  restore within 36h for levels 3-4\n"
    "  report within 1 month for levels 3-4\n"
    "  retention 3 years\n"
    "  tell \"unit-head\" for levels 1-4\n"
    "}\n"
    "system \"web\" {\n"
    "  core yes\n"
    "  critical-infrastructure yes\n"
    "  rto 1h\n"
    "  check tcp 127.0.0.1 port 9 every 1h\n"
    "}\n";

static struct event_base	*base;
static struct store		*store;
static struct engine		*engine;
static struct control		*control;
static struct web		*web;
static struct conf		*conf;
static struct sockaddr_in	 sin_web;
static char			 token_path[64];
static long			 events_added;

static void
fuzz_cleanup(void)
{
	web_free(web);
	control_free(control);
	engine_free(engine);
	store_close(store);
	event_base_free(base);
	conf_free(conf);
	unlink(token_path);
}

/* A free loopback port, for the rules' "set web listen". */
static unsigned
fuzz_port(void)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof(a);
	int			 fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) == -1)
		abort();
	close(fd);
	return ntohs(a.sin_port);
}

static void
fuzz_setup(void)
{
	struct conf_errors		 errs = { NULL, 0 };
	struct store_new_incident	 ni;
	int64_t				 outage, incident, now = wall_ms();
	char				*rules;
	unsigned			 port = fuzz_port();
	int				 fd, len;

	log_init("fuzz_web", 0, 0);
	/* As rtowatchd does: a client gone mid-reply is not fatal. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(token_path, sizeof(token_path), "/tmp/rtowatch-fuzz-web-%d."
	    "token", (int)getpid());
	if ((fd = open(token_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, FUZZ_TOKEN "\n", sizeof(FUZZ_TOKEN)) !=
	    (ssize_t)sizeof(FUZZ_TOKEN))
		abort();
	close(fd);
	if ((len = asprintf(&rules, rules_fmt, port, token_path)) == -1)
		abort();
	conf = conf_parse_buffer("fuzz.conf", rules, (size_t)len, &errs);
	free(rules);
	if (conf == NULL)
		abort();
	free(conf->socket);
	if (asprintf(&conf->socket, "/tmp/rtowatch-fuzz-web-%d.sock",
	    (int)getpid()) == -1)
		abort();
	if ((base = event_base_new()) == NULL ||
	    (store = store_open(":memory:")) == NULL)
		abort();
	engine = engine_new(base, store);
	engine_configure(engine, conf);
	/* One incident for the pages to show, with its clocks: recovered. */
	memset(&ni, 0, sizeof(ni));
	ni.system = "web";
	ni.owner = "";
	ni.core = 1;
	ni.critical_infrastructure = 1;
	ni.rto_ms = 3600000;
	ni.level = 3;
	ni.started_at = ni.detected_at = ni.opened_at = now;
	ni.notify_due_at = now + 3600000;
	ni.restore_due_at = now + 36 * 3600000LL;
	ni.cause = "fuzz <fuzz> & \"quoted\"";
	if (store_begin(store) == -1 ||
	    store_outage_open(store, &ni, &outage, &incident) == -1 ||
	    store_commit(store) == -1)
		abort();
	if (engine_recover(engine) == -1)
		abort();
	if ((control = control_start(base, engine, store, conf)) == NULL ||
	    (web = web_configure(NULL, base, control, conf)) == NULL)
		abort();
	web_set_cli(web, NULL);
	memset(&sin_web, 0, sizeof(sin_web));
	sin_web.sin_family = AF_INET;
	sin_web.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin_web.sin_port = htons((uint16_t)port);
	atexit(fuzz_cleanup);
}

/*
 * A timeline row whose detail is the input, the daemon's own (of no
 * incident, whose form and JSON would grow with each): the commit wakes
 * the /events followers (web_follow_cb), which send it on, whatever
 * bytes it has.
 */
static void
fuzz_event(const uint8_t *data, size_t size)
{
	struct store_event	 ev;
	char			 detail[256];
	size_t			 n = size < sizeof(detail) - 1 ? size :
				    sizeof(detail) - 1;

	memcpy(detail, data, n);
	detail[n] = '\0';
	memset(&ev, 0, sizeof(ev));
	ev.at = wall_ms();
	ev.event = "note";
	ev.actor = "fuzz";
	ev.detail = detail;
	if (store_begin(store) == -1 || store_timeline_add(store, &ev) == -1 ||
	    store_commit(store) == -1)
		abort();
	events_added++;
}

/* The value of header NAME among HEAD's LEN bytes, or NULL. */
static const char *
fuzz_header(const char *head, size_t len, const char *name)
{
	const char	*p = head, *end = head + len, *nl;
	size_t		 n = strlen(name);

	while ((nl = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
		p = nl + 2;
		if ((size_t)(end - p) > n + 1 && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':')
			return p + n + 1 + strspn(p + n + 1, " ");
	}
	return NULL;
}

/* The metrics' exposition: comments, or a name and a value a line. */
static void
fuzz_check_metrics(const char *body, size_t len)
{
	const char	*p = body, *end = body + len, *nl;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			abort();	/* every line ends */
		if (*p == '#' || p == nl)
			continue;
		if (!isalpha((unsigned char)*p) && *p != '_')
			abort();
		if (memchr(p, ' ', (size_t)(nl - p)) == NULL)
			abort();
	}
}

/*
 * The event stream: each event's data a JSON object on its line (an
 * event is one chunk, so its lines are whole; the last may be cut short
 * by the turns).  Whatever bytes the timeline had.
 */
static void
fuzz_check_events(const char *body, size_t len)
{
	const char	*p = body, *end = body + len, *nl;
	json_t		*obj;

	while ((p = memmem(p, (size_t)(end - p), "\ndata: ", 7)) != NULL) {
		p += 7;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if ((obj = json_loadb(p, (size_t)(nl - p), 0, NULL)) == NULL ||
		    !json_is_object(obj))
			abort();
		json_decref(obj);
		p = nl;
	}
}

/* Our pages and evhttp's error page; never a tag from the input. */
static void
fuzz_check_html(int status, const char *body, size_t len)
{
	static const char	 ours[] = "<!DOCTYPE html>\n";
	static const char	 evhttp[] = "<HTML><HEAD>";
	static const char	 part[] = "<p>";
	static const char	 end[] = "</html>\n";
	size_t			 i;

	if (len >= sizeof(ours) - 1 &&
	    memcmp(body, ours, sizeof(ours) - 1) == 0) {
		if (len < sizeof(end) - 1 || memcmp(body + len -
		    (sizeof(end) - 1), end, sizeof(end) - 1) != 0)
			abort();
	} else if (len >= sizeof(part) - 1 &&
	    memcmp(body, part, sizeof(part) - 1) == 0) {
		/* The status page's part (?part=1): a fragment, no page. */
		if (memmem(body, len, "<!DOCTYPE", 9) != NULL)
			abort();
	} else if (status < 400 || len < sizeof(evhttp) - 1 ||
	    memcmp(body, evhttp, sizeof(evhttp) - 1) != 0)
		abort();
	for (i = 0; i + 5 <= len; i++)
		if (strncasecmp(body + i, "<fuzz", 5) == 0)
			abort();
}

/*
 * What the listener answered, if it completed a reply: the first one,
 * when the input held several requests.
 */
static void
fuzz_check_reply(const char *buf, size_t len)
{
	const char	*body, *type, *cl, *te, *p;
	size_t		 hlen, blen;
	int		 status;

	if (len == 0)
		return;
	/*
	 * evhttp answers in the request's version, which it reads with
	 * sscanf("%d") into a char: "HTTP/1111111111.1" comes back as
	 * "HTTP/-57.1".  Its quirk, not ours: numbers, whatever they are.
	 */
	if (strncmp(buf, "HTTP/", 5) != 0)
		abort();
	p = buf + 5 + (buf[5] == '-');
	if (!isdigit((unsigned char)*p))
		abort();
	p += strspn(p, "0123456789");
	if (*p++ != '.')
		abort();
	p += *p == '-';
	if (!isdigit((unsigned char)*p))
		abort();
	p += strspn(p, "0123456789");
	if (*p++ != ' ' || strspn(p, "0123456789") != 3 || p[3] != ' ')
		abort();
	status = atoi(p);
	if (status < 200 || status > 599)
		abort();
	if ((body = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		return;		/* the turns did not bring it whole */
	hlen = (size_t)(body - buf) + 2;
	body += 4;
	if (status == 303 && fuzz_header(buf, hlen, "Location") == NULL)
		abort();
	te = fuzz_header(buf, hlen, "Transfer-Encoding");
	if (te != NULL && strncasecmp(te, "chunked", 7) == 0) {
		/* /events: a stream of text, never a page. */
		if ((type = fuzz_header(buf, hlen, "Content-Type")) == NULL ||
		    strncmp(type, "text/event-stream", 17) != 0)
			abort();
		fuzz_check_events(body, len - (size_t)(body - buf));
		return;
	}
	if ((cl = fuzz_header(buf, hlen, "Content-Length")) == NULL)
		return;
	blen = strtoul(cl, NULL, 10);
	/* A HEAD's reply has none; one not in whole is not judged. */
	if (blen == 0 || blen > len - (size_t)(body - buf))
		return;
	if ((type = fuzz_header(buf, hlen, "Content-Type")) == NULL)
		abort();
	if (strncmp(type, "text/html", 9) == 0)
		fuzz_check_html(status, body, blen);
	else if (strncmp(type, "application/json", 16) == 0) {
		json_t	*obj = json_loadb(body, blen, 0, NULL);

		if (obj == NULL || !json_is_object(obj))
			abort();
		json_decref(obj);
	} else if (strncmp(type, "text/plain", 10) == 0)
		fuzz_check_metrics(body, blen);
	else
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 reply[1 << 20];
	size_t		 got = 0, sent = 0;
	ssize_t		 n;
	int		 fd, turn, done = 0, follow;

	if (base == NULL)
		fuzz_setup();
	follow = events_added < FUZZ_EVENTS &&
	    memmem(data, size, "/events", 7) != NULL;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		abort();
	if (connect(fd, (struct sockaddr *)&sin_web, sizeof(sin_web)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	for (turn = 0; turn < FUZZ_TURNS; turn++) {
		/* What the socket takes now; the rest after a turn. */
		while (sent < size && (n = write(fd, data + sent,
		    size - sent)) > 0)
			sent += (size_t)n;
		/* A follower keeps its end open a few turns: it follows. */
		if (sent == size && !done && (!follow || turn >= 8)) {
			shutdown(fd, SHUT_WR);
			done = 1;
		}
		/* A follower of /events gets a row while it follows. */
		if (follow && turn == 4)
			fuzz_event(data, size);
		event_base_loop(base, EVLOOP_NONBLOCK);
		while ((n = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
			got += (size_t)n;
		/* The listener closed (or the buffer is full): done. */
		if (n == 0 || (n == -1 && errno != EAGAIN))
			break;
	}
	reply[got] = '\0';
	fuzz_check_reply(reply, got);
	close(fd);
	/* The listener sees the close, and lets go of the connection. */
	for (turn = 0; turn < 4; turn++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
