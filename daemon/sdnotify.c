/*
 * sdnotify.c: sd_notify(3) and sd_watchdog_enabled(3) as their manual
 * pages describe them (include/sdnotify.h says why not libsystemd's).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"

int
sdnotify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 len;
	size_t			 n;
	int			 fd, saved;
	ssize_t			 sent;

	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return 0;
	/* A path, or '@' and an abstract name; nothing else is ours. */
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;
	n = strlen(path);
	if (n > sizeof(sun.sun_path) || (n == sizeof(sun.sun_path) &&
	    path[0] == '/'))
		return -EINVAL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	/* Abstract: a leading NUL, and the length says where it ends. */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/' ? 1 : 0));

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	if (sent == -1)
		return -saved;
	return 1;
}

int
sdnotifyf(const char *fmt, ...)
{
	va_list	 ap;
	char	*state;
	int	 rc;

	va_start(ap, fmt);
	rc = vasprintf(&state, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -ENOMEM;
	rc = sdnotify(state);
	free(state);
	return rc;
}

/* A whole decimal number, nothing else, into *V. */
static int
sdnotify_number(const char *s, uint64_t *v)
{
	char		*end;
	uintmax_t	 u;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	u = strtoumax(s, &end, 10);
	if (errno != 0 || *end != '\0' || u > UINT64_MAX)
		return -1;
	*v = (uint64_t)u;
	return 0;
}

int
sdnotify_watchdog(uint64_t *usec)
{
	const char	*s;
	uint64_t	 v, pid;

	if ((s = getenv("WATCHDOG_USEC")) == NULL)
		return 0;
	if (sdnotify_number(s, &v) == -1 || v == 0)
		return -EINVAL;
	/* Meant for another process (a parent that exec'd us, or a child). */
	if ((s = getenv("WATCHDOG_PID")) != NULL) {
		if (sdnotify_number(s, &pid) == -1 || pid == 0)
			return -EINVAL;
		if (pid != (uint64_t)getpid())
			return 0;
	}
	*usec = v;
	return 1;
}
