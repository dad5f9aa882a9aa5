/*
 * The floor under a TCP or HTTP availability probe: what the kernel and a
 * minimal client cost for one fresh loopback connection, with nothing else.
 *
 *	bare_probe tcp|http ADDR PORT N EVERY_S WINDOW_S
 *
 * tcp:  N targets ADDR:PORT .. ADDR:PORT+N-1, each connected and closed.
 * http: N targets http://ADDR:PORT/t/0 .. /t/N-1, each a fresh connection,
 *       one GET with curl's request headers, the response read to its
 *       Content-Length, then closed by us, as rtowatchd's probe does.
 *
 * Starts are spread over EVERY_S and grouped in 10 ms slots, as rtowatchd's
 * scheduler does, so that the two pay for the same number of wake-ups.
 * After one interval of warm-up, CPU (getrusage) is measured over WINDOW_S
 * and printed as "probes P failed F cpu_s C maxrss_kb R", R from VmHWM.
 * ADDR must be a loopback address; a probe unanswered after 2 s is a
 * failure.
 *
 * Built by tests/bench/bench.py with cc -O2; not part of rtowatch.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

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

enum phase { IDLE, CONNECTING, READING };

struct target {
	int		 fd;
	enum phase	 phase;
	long long	 started;
	size_t		 got;
	char		 buf[RESPONSE_MAX];
};

static int		 http;
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

static void
connected(int i)
{
	struct target		*t = &targets[i];
	struct epoll_event	 ev;
	char			 req[256];
	int			 error = 0, len;
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
	len = snprintf(req, sizeof(req), "GET /t/%d HTTP/1.1\r\n"
	    "Host: %s:%d\r\nUser-Agent: bare_probe\r\nAccept: */*\r\n\r\n",
	    i, inet_ntoa(addr), port);
	if (send(t->fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		finish(t, 0);
		return;
	}
	t->phase = READING;
	ev.events = EPOLLIN;
	ev.data.u32 = (unsigned int)i;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, t->fd, &ev) == -1)
		err(1, "epoll_ctl");
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

	n = recv(t->fd, t->buf + t->got, sizeof(t->buf) - 1 - t->got, 0);
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

	if (argc != 7)
		errx(1, "usage: bare_probe tcp|http ADDR PORT N EVERY_S "
		    "WINDOW_S");
	if (strcmp(argv[1], "http") == 0)
		http = 1;
	else if (strcmp(argv[1], "tcp") != 0)
		errx(1, "mode %s: tcp or http", argv[1]);
	if (inet_pton(AF_INET, argv[2], &addr) != 1 ||
	    (ntohl(addr.s_addr) >> 24) != 127)
		errx(1, "%s: not a loopback address", argv[2]);
	port = (int)number(argv[3], 1, 65535, "port");
	n = number(argv[4], 1, 100000, "targets");
	if (!http && port + n - 1 > 65535)
		errx(1, "ports %d..%ld out of range", port, port + n - 1);
	every = number(argv[5], 1, 3600, "interval") * 1000000000LL;
	window_end = number(argv[6], 1, 3600, "window") * 1000000000LL;

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
