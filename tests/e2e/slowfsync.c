/*
 * slowfsync.c: LD_PRELOAD'ed into rtowatch-notify by the desktop
 * scenarios, it holds every fsync(2) SLOWFSYNC_MS milliseconds first, as
 * a disk busy with a whole test run does.  The agent fsyncs its state
 * file (GLib's g_file_set_contents_full) after a notification is shown,
 * so a scenario that reads that file as soon as dunst has the
 * notification reads the id before it: the race this makes certain.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

int
fsync(int fd)
{
	static int	(*real)(int);
	const char	*ms;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	if ((ms = getenv("SLOWFSYNC_MS")) != NULL)
		usleep((useconds_t)atoi(ms) * 1000);
	return real(fd);
}
