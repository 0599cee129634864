/* Time in jiffies (HZ=250 as Debian's x86-64 kernels). */
#ifndef DMASIM_LINUX_JIFFIES_H
#define DMASIM_LINUX_JIFFIES_H

#define HZ 250
#define MAX_JIFFY_OFFSET ((~0UL >> 1) - 1)

static inline unsigned long msecs_to_jiffies(unsigned int ms)
{
	return ((unsigned long)ms * HZ + 999) / 1000;
}

static inline unsigned int jiffies_to_msecs(unsigned long j)
{
	return (unsigned int)(j * (1000 / HZ));
}

#endif
