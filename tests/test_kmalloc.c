/* kmalloc, kzalloc, kfree: size classes, alignment, objects of a class
 * sharing pages, bad frees reported, threads, nothing left behind. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/mm.h"
#include "dmasim/linux/slab.h"
#include "helpers.h"
#include "kernel/machine.h"
#include "kernel/slab.h"

static struct machine *boot(void)
{
	return (struct machine *)test_boot(GiB(1), NULL);
}

static void test_classes(void **state)
{
	struct machine *m = boot();
	static const size_t sizes[] = { 1, 32, 33, 100, 512, 1000, 2048, 3000, 8192 };
	static const size_t want[] = { 32, 32, 64, 128, 512, 1024, 2048, 4096, 8192 };
	struct kmem_stats st;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = kmalloc(sizes[i], GFP_KERNEL);

		assert_non_null(p);
		assert_int_equal(ksize(p), want[i]);
		assert_int_equal((uintptr_t)virt_to_phys(p) % want[i], 0);
		assert_true(virt_addr_valid(p));
		memset(p, 0xab, sizes[i]);
		kfree(p);
	}
	assert_ptr_equal(kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	kfree(ZERO_SIZE_PTR);
	kfree(NULL);
	kmem_get_stats(m, &st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.slabs, 0);
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_sharing(void **state)
{
	struct machine *m = boot();
	uint8_t *a = kmalloc(2048, GFP_KERNEL), *b = kmalloc(2000, GFP_KERNEL);
	uint8_t *z, *big;

	(void)state;
	/* two kmalloc-2k objects: one page */
	assert_int_equal(virt_to_phys(a) >> PAGE_SHIFT, virt_to_phys(b) >> PAGE_SHIFT);
	assert_string_equal(kmem_cache_name(m, a), "kmalloc-2k");
	kfree(a);
	z = kzalloc(2048, GFP_KERNEL);	/* the freed object again, zeroed */
	assert_ptr_equal(z, a);
	for (int i = 0; i < 2048; i++)
		assert_int_equal(z[i], 0);
	big = kmalloc(20000, GFP_KERNEL);	/* pages: order 3 */
	assert_non_null(big);
	assert_int_equal(virt_to_phys(big) % 4096, 0);
	assert_string_equal(kmem_cache_name(m, big), "kmalloc-large");
	kfree(big);
	kfree(b);
	kfree(z);
	assert_null(kmem_cache_name(m, a));
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_bad_free(void **state)
{
	struct machine *m = boot();
	uint8_t *a = kmalloc(64, GFP_KERNEL), *b = kmalloc(64, GFP_KERNEL);
	int local;
	struct kmem_stats st;

	(void)state;
	kfree(a + 8);		/* inside an object */
	kfree(&local);		/* not kernel memory */
	kfree(a);
	kfree(a);		/* twice (b keeps the slab) */
	kfree(b);
	kmem_get_stats(m, &st);
	assert_int_equal(st.bad_frees, 3);
	assert_int_equal(st.objects, 0);
	{
		char *log = test_dmesg((struct dmasim_machine *)m);

		assert_non_null(strstr(log, "kfree: not an object kmalloc returned: phys 0x"));
		assert_non_null(strstr(log, "kfree: object already free: phys 0x"));
		assert_non_null(strstr(log, "(not kernel memory)"));
		free(log);
	}
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void *worker(void *arg)
{
	struct dmasim_machine *m = arg;
	void *p[64];

	dmasim_enter(m);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 64; i++)
			p[i] = kmalloc((size_t)32 << (i % 8), GFP_KERNEL);
		for (int i = 0; i < 64; i++)
			kfree(p[i]);
	}
	dmasim_enter(NULL);
	return NULL;
}

static void test_threads(void **state)
{
	struct machine *m = boot();
	pthread_t t[3];
	struct kmem_stats st;

	(void)state;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, m);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	kmem_get_stats(m, &st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.allocs, 3 * 50 * 64);
	assert_int_equal(st.slabs, 0);
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_sharing),
		cmocka_unit_test(test_bad_free),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
