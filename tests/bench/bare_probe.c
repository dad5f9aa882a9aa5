/*
 * The floor under a TCP or HTTP availability probe: what the kernel and a
 * minimal client cost for one fresh loopback connection, with nothing else.
 *
 *	bare_probe tcp|http ADDR PORT N EVERY_S WINDOW_S
 *	bare_probe https ADDR PORT N EVERY_S WINDOW_S CAFILE
 *
 * tcp:   N targets ADDR:PORT .. ADDR:PORT+N-1, each connected and closed.
 * http:  N targets http://ADDR:PORT/t/0 .. /t/N-1, each a fresh connection,
 *        one GET with curl's request headers, the response read to its
 *        Content-Length, then closed by us, as rtowatchd's probe does.
 * https: as http, over a full TLS handshake (OpenSSL, one SSL_CTX whose CA
 *        store, CAFILE, is parsed once), the server's certificate verified
 *        against CAFILE and ADDR (its IP SAN), no session resumed.
 *
 * Starts are spread over EVERY_S and grouped in 10 ms slots, as rtowatchd's
 * scheduler does, so that the two pay for the same number of wake-ups.
 * After one interval of warm-up, CPU (getrusage) is measured over WINDOW_S
 * and printed as "probes P failed F cpu_s C maxrss_kb R", R from VmHWM.
 * ADDR must be a loopback address; a probe unanswered after 2 s is a
 * failure.
 *
 * Built by tests/bench/bench.py with cc -O2 ... -lssl -lcrypto; not part of
 * rtowatch.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOT_NS		10000000LL	/* starts grouped in 10 ms slots */
#define TIMEOUT_NS	2000000000LL
#define RESPONSE_MAX	512	/* nginx's answer is about 170 bytes */

enum phase { IDLE, CONNECTING, HANDSHAKE, READING };

struct target {
	int		 fd;
	enum phase	 phase;
	SSL		*ssl;
	long long	 started;
	size_t		 got;
	char		 buf[RESPONSE_MAX];
};

static int		 http, tls;
static SSL_CTX		*ctx;
static const char	*addr_text;
static struct in_addr	 addr;
static int		 port;
static struct target	*targets;
static int		 epfd;
static long		 done, failed;

static long long
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
finish(struct target *t, int ok)
{
	if (t->ssl != NULL) {
		SSL_free(t->ssl);	/* no close_notify: the floor */
		t->ssl = NULL;
	}
	close(t->fd);
	t->fd = -1;
	t->phase = IDLE;
	done++;
	if (!ok)
		failed++;
}

static void
start(int i)
{
	struct target		*t = &targets[i];
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;

	if (t->phase != IDLE)
		return;		/* still running: skipped, as rtowatchd does */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = addr;
	sin.sin_port = htons((unsigned short)(http ? port : port + i));
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd == -1)
		err(1, "socket");
	t->started = now_ns();
	t->got = 0;
	t->phase = CONNECTING;
	if (connect(t->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		finish(t, 0);
		return;
	}
	ev.events = EPOLLOUT;
	ev.data.u32 = (unsigned int)i;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, t->fd, &ev) == -1)
		err(1, "epoll_ctl");
}

/* Wait for FD to be readable (WANT_READ) or writable. */
static void
wait_on(int i, int want_write)
{
	struct epoll_event	 ev;

	ev.events = want_write ? EPOLLOUT : EPOLLIN;
	ev.data.u32 = (unsigned int)i;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, targets[i].fd, &ev) == -1)
		err(1, "epoll_ctl");
}

static void
send_request(int i)
{
	struct target	*t = &targets[i];
	char		 req[256];
	int		 len, n;

	len = snprintf(req, sizeof(req), "GET /t/%d HTTP/1.1\r\n"
	    "Host: %s:%d\r\nUser-Agent: bare_probe\r\nAccept: */*\r\n\r\n",
	    i, addr_text, port);
	if (tls)
		n = SSL_write(t->ssl, req, len);
	else
		n = (int)send(t->fd, req, (size_t)len, MSG_NOSIGNAL);
	if (n != len) {
		finish(t, 0);
		return;
	}
	t->phase = READING;
	wait_on(i, 0);
}

/* One step of the TLS handshake; the request once it is done. */
static void
handshake(int i)
{
	struct target	*t = &targets[i];
	int		 rc;

	if ((rc = SSL_connect(t->ssl)) == 1) {
		send_request(i);
		return;
	}
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		wait_on(i, 0);
		break;
	case SSL_ERROR_WANT_WRITE:
		wait_on(i, 1);
		break;
	default:
		ERR_clear_error();
		finish(t, 0);
	}
}

static void
connected(int i)
{
	struct target		*t = &targets[i];
	int			 error = 0;
	socklen_t		 elen = sizeof(error);

	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &error, &elen) == -1 ||
	    error != 0) {
		finish(t, 0);
		return;
	}
	if (!http) {
		finish(t, 1);
		return;
	}
	if (!tls) {
		send_request(i);
		return;
	}
	/* The CA store is the context's; the name checked is ADDR's. */
	if ((t->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(t->ssl, t->fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl),
	    addr_text) != 1)
		errx(1, "SSL_new failed");
	SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
	t->phase = HANDSHAKE;
	handshake(i);
}

/* Complete when the headers and Content-Length bytes of body are in. */
static int
response_complete(struct target *t)
{
	char		*end, *cl;
	size_t		 head;

	t->buf[t->got] = '\0';
	if ((end = strstr(t->buf, "\r\n\r\n")) == NULL)
		return 0;
	head = (size_t)(end - t->buf) + 4;
	if ((cl = strcasestr(t->buf, "\r\nContent-Length:")) == NULL ||
	    cl > end)
		return 1;
	return t->got >= head + strtoul(cl + 17, NULL, 10);
}

static void
readable(int i)
{
	struct target	*t = &targets[i];
	ssize_t		 n;

	if (tls) {
		n = SSL_read(t->ssl, t->buf + t->got,
		    (int)(sizeof(t->buf) - 1 - t->got));
		if (n <= 0 && SSL_get_error(t->ssl, (int)n) ==
		    SSL_ERROR_WANT_READ)
			return;
	} else
		n = recv(t->fd, t->buf + t->got, sizeof(t->buf) - 1 - t->got,
		    0);
	if (n <= 0) {
		finish(t, 0);
		return;
	}
	t->got += (size_t)n;
	if (response_complete(t))
		finish(t, strncmp(t->buf, "HTTP/1.1 200", 12) == 0);
	else if (t->got == sizeof(t->buf) - 1)
		finish(t, 0);
}

/*
 * Peak RSS in kB from /proc (VmHWM): ru_maxrss would count the pages of
 * the process that forked us, before exec.
 */
static long
peak_kb(void)
{
	FILE	*f;
	char	 line[128];
	long	 kb = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long
number(const char *s, long lo, long hi, const char *what)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		errx(1, "%s: %s is not a number in %ld..%ld", what, s, lo, hi);
	return v;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[256];
	struct rusage		 ru0, ru1;
	long long		 t0, every, window_end, slot, planned, now;
	long long		 last_scan;
	long			 n, done0 = 0, failed0 = 0, next, i;
	int			 k, nev, timeout_ms, measuring = 0;

	if (argc != 7 && argc != 8)
		errx(1, "usage: bare_probe tcp|http|https ADDR PORT N EVERY_S "
		    "WINDOW_S [CAFILE]");
	if (strcmp(argv[1], "http") == 0)
		http = 1;
	else if (strcmp(argv[1], "https") == 0)
		http = tls = 1;
	else if (strcmp(argv[1], "tcp") != 0)
		errx(1, "mode %s: tcp, http or https", argv[1]);
	if (tls != (argc == 8))
		errx(1, "https, and only https, takes a CAFILE");
	addr_text = argv[2];
	if (inet_pton(AF_INET, argv[2], &addr) != 1 ||
	    (ntohl(addr.s_addr) >> 24) != 127)
		errx(1, "%s: not a loopback address", argv[2]);
	port = (int)number(argv[3], 1, 65535, "port");
	n = number(argv[4], 1, 100000, "targets");
	if (!http && port + n - 1 > 65535)
		errx(1, "ports %d..%ld out of range", port, port + n - 1);
	every = number(argv[5], 1, 3600, "interval") * 1000000000LL;
	window_end = number(argv[6], 1, 3600, "window") * 1000000000LL;

	if (tls) {
		if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_load_verify_locations(ctx, argv[7], NULL) != 1)
			errx(1, "%s: cannot load the CA", argv[7]);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	if ((targets = calloc((size_t)n, sizeof(*targets))) == NULL)
		err(1, "calloc");
	getrusage(RUSAGE_SELF, &ru0);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");

	t0 = now_ns();
	window_end += t0 + every;	/* one interval of warm-up first */
	next = 0;			/* the next start, counted from t0 */
	last_scan = t0;
	for (;;) {
		now = now_ns();
		if (!measuring && now >= t0 + every) {
			getrusage(RUSAGE_SELF, &ru0);
			done0 = done;
			failed0 = failed;
			measuring = 1;
		}
		if (now >= window_end)
			break;
		/* Start every target planned up to the end of this slot. */
		slot = (now / SLOT_NS + 1) * SLOT_NS;
		for (;;) {
			planned = t0 + (next / n) * every + (next % n) * every / n;
			if (planned >= slot)
				break;
			start((int)(next % n));
			next++;
		}
		if (now - last_scan >= 1000000000LL) {	/* timeouts, each 1 s */
			last_scan = now;
			for (i = 0; i < n; i++)
				if (targets[i].phase != IDLE &&
				    now - targets[i].started > TIMEOUT_NS)
					finish(&targets[i], 0);
		}
		/* Rounded up: a loop that wakes early spins, and pays. */
		timeout_ms = (int)((slot - now_ns() + 999999) / 1000000);
		nev = epoll_wait(epfd, evs, 256, timeout_ms < 0 ? 0 :
		    timeout_ms);
		if (nev == -1 && errno != EINTR)
			err(1, "epoll_wait");
		for (k = 0; k < nev; k++) {
			i = evs[k].data.u32;
			if (targets[i].phase == CONNECTING)
				connected((int)i);
			else if (targets[i].phase == HANDSHAKE)
				handshake((int)i);
			else if (targets[i].phase == READING)
				readable((int)i);
		}
	}
	getrusage(RUSAGE_SELF, &ru1);
	printf("probes %ld failed %ld cpu_s %.6f maxrss_kb %ld\n",
	    done - done0, failed - failed0,
	    (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
	    ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
	    (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
	    ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6,
	    peak_kb());
	return 0;
}
