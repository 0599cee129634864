/* Parsing of device specs (see pci_spec.c). */
#ifndef DMASIM_HW_PCI_SPEC_H
#define DMASIM_HW_PCI_SPEC_H

#include <stddef.h>

struct machine;
struct pci_func;

/* A new, unplaced function from @spec, or -EINVAL with a message. */
int pci_spec_parse(struct machine *m, const char *spec, struct pci_func **out,
		   char *err, size_t errlen);
void pci_func_free(struct pci_func *fn);
/* "[BB:]DD[.F]" (hex): 0, or -1. *bus is -1 without "BB:". */
int pci_parse_addr(const char *s, int *bus, int *slot, int *func);

#endif
