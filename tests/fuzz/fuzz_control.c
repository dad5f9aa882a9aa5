/*
 * fuzz_control.c: libFuzzer harness for the control socket.
 *
 * Each input is the bytes a client sends on the control socket: request
 * line, headers, body, or anything else.  The harness runs the real
 * server (evhttp, the router, the JSON checks, the workflow actions and
 * the store, in memory) on its real Unix socket, as root, so that every
 * action is allowed and reaches the database.  Besides not crashing or
 * leaking, every reply the server completes must be JSON (an object), as
 * docs/control-api.md promises; evhttp's own replies to what is not HTTP
 * at all (400 with its HTML page) are the only exception.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/event.h>
#include <jansson.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "engine.h"
#include "log.h"
#include "store.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_TURNS	64	/* loop turns per input */

static const char rules[] =
    "set database \":memory:\"\n"
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
static struct conf		*conf;
static struct sockaddr_un	 sun;

static void
fuzz_cleanup(void)
{
	control_free(control);
	engine_free(engine);
	store_close(store);
	event_base_free(base);
	conf_free(conf);
}

static void
fuzz_setup(void)
{
	struct conf_errors		 errs = { NULL, 0 };
	struct store_new_incident	 ni;
	int64_t				 outage, incident, now = wall_ms();

	log_init("fuzz_control", 0, 0);
	/* As rtowatchd does: a client gone mid-reply is not fatal. */
	signal(SIGPIPE, SIG_IGN);
	if ((conf = conf_parse_buffer("fuzz.conf", rules, sizeof(rules) - 1,
	    &errs)) == NULL)
		abort();
	free(conf->socket);
	if (asprintf(&conf->socket, "/tmp/rtowatch-fuzz-%d.sock",
	    (int)getpid()) == -1)
		abort();
	if ((base = event_base_new()) == NULL ||
	    (store = store_open(":memory:")) == NULL)
		abort();
	engine = engine_new(base, store);
	engine_configure(engine, conf);
	if (engine_recover(engine) == -1)
		abort();
	if ((control = control_start(base, engine, store, conf)) == NULL)
		abort();
	/* One incident for the actions to work on. */
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
	ni.cause = "fuzz";
	if (store_begin(store) == -1 ||
	    store_outage_open(store, &ni, &outage, &incident) == -1 ||
	    store_commit(store) == -1)
		abort();
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", conf->socket);
	atexit(fuzz_cleanup);
}

/* What the server answered, if it completed a reply. */
static void
fuzz_check_reply(const char *buf, size_t len)
{
	const char	*body, *cl;
	json_t		*obj;

	if (len == 0 || strncmp(buf, "HTTP/1.", 7) != 0)
		return;
	if ((body = strstr(buf, "\r\n\r\n")) == NULL)
		return;
	/* The first reply's own headers, not a later reply's. */
	if (memmem(buf, (size_t)(body - buf), "application/json", 16) ==
	    NULL || body[4] == '\0')
		return;		/* evhttp's own 400 for non-HTTP; HEAD */
	body += 4;
	/* A reply the loop turns did not bring in whole is not judged. */
	if ((cl = memmem(buf, (size_t)(body - buf), "Content-Length: ",
	    16)) == NULL || strtoul(cl + 16, NULL, 10) >
	    len - (size_t)(body - buf))
		return;
	/* Pipelined requests: the first reply is checked. */
	if ((obj = json_loadb(body, len - (size_t)(body - buf),
	    JSON_DISABLE_EOF_CHECK, NULL)) == NULL || !json_is_object(obj))
		abort();
	json_decref(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 reply[1 << 20];
	size_t		 got = 0;
	ssize_t		 n = -1;
	int		 fd, turn;

	if (base == NULL)
		fuzz_setup();
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		abort();
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return 0;
	}
	if (size > 0)
		(void)write(fd, data, size);
	shutdown(fd, SHUT_WR);
	for (turn = 0; turn < FUZZ_TURNS; turn++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		while (got < sizeof(reply) - 1 &&
		    (n = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
			got += (size_t)n;
		if (n == 0)
			break;		/* the server closed: done */
	}
	reply[got] = '\0';
	fuzz_check_reply(reply, got);
	close(fd);
	event_base_loop(base, EVLOOP_NONBLOCK);
	return 0;
}
