// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsnic_hammer: test module of hsnic's unplug race test
 * (tests/lab_tests.py, hsnic-unplug-race).
 *
 * A kernel thread keeps accessing an hsnic BAR0 that this module mapped
 * itself, not through hsnic.ko, so the accesses go on while the device
 * is ejected and unrealized in QEMU. They are the ones that reach the
 * device's state there: DEV_STATUS reads (the NIC's link state), IRQ_CTRL
 * writes (the vector's moderation timer), IRQ_MOD writes, and 2-byte
 * doorbell accesses (which take the doorbell region's locked slow path).
 * Test code only: it disturbs the device it hammers.
 */

#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>

#include "hsnic_abi.h"

static unsigned long bar0;
module_param(bar0, ulong, 0444);
MODULE_PARM_DESC(bar0, "Physical address of the hsnic's BAR0");

static unsigned int vector = 1;
module_param(vector, uint, 0444);
MODULE_PARM_DESC(vector, "MSI-X vector whose IRQ_CTRL and IRQ_MOD it writes");

static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU the thread is bound to (default: the last one)");

/* Rounds of accesses made so far: the test reads it to see progress. */
static unsigned long rounds;
module_param(rounds, ulong, 0444);
MODULE_PARM_DESC(rounds, "Rounds of accesses made (read only)");

static void __iomem *regs;
static struct task_struct *thread;

static int hsnic_hammer_fn(void *data)
{
	while (!kthread_should_stop()) {
		readl(regs + HSNIC_REG_DEV_STATUS);
		writel(HSNIC_IRQ_ARM, regs + HSNIC_REG_IRQ_CTRL(vector));
		writel(1, regs + HSNIC_REG_IRQ_MOD(vector));
		readl(regs + HSNIC_REG_IRQ_CTRL(vector));
		readw(regs + HSNIC_DB_TX(0));
		writew(0, regs + HSNIC_DB_TX(0));
		WRITE_ONCE(rounds, rounds + 1);
		cond_resched();
	}
	return 0;
}

static int __init hsnic_hammer_init(void)
{
	if (!bar0) {
		pr_err("hsnic_hammer: bar0= is required\n");
		return -EINVAL;
	}
	if (vector < HSNIC_VEC_QP(0) || vector >= HSNIC_NUM_VEC_MAX) {
		pr_err("hsnic_hammer: vector %u is not a queue pair's\n", vector);
		return -EINVAL;
	}
	if (cpu < 0)
		cpu = num_online_cpus() - 1;
	if (cpu >= nr_cpu_ids || !cpu_online(cpu)) {
		pr_err("hsnic_hammer: CPU %d is not online\n", cpu);
		return -EINVAL;
	}

	regs = ioremap(bar0, HSNIC_BAR0_SIZE);
	if (!regs)
		return -ENOMEM;
	thread = kthread_create(hsnic_hammer_fn, NULL, "hsnic_hammer");
	if (IS_ERR(thread)) {
		iounmap(regs);
		return PTR_ERR(thread);
	}
	kthread_bind(thread, cpu);
	wake_up_process(thread);
	return 0;
}

static void __exit hsnic_hammer_exit(void)
{
	kthread_stop(thread);
	iounmap(regs);
	pr_info("hsnic_hammer: %lu rounds of accesses\n", rounds);
}

module_init(hsnic_hammer_init);
module_exit(hsnic_hammer_exit);

MODULE_DESCRIPTION("hsnic unplug race test: BAR0 accesses across an eject");
MODULE_LICENSE("GPL");
