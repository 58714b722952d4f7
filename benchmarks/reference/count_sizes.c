/*
 * The compiled reference for benchmarks/scale_cli.py: read a `framed` heap
 * trace once, in fixed-size pieces, and count its records per size (the old
 * size for grow and shrink). Standard C only, so that its time is what one
 * streaming pass over the file costs on this machine, with no numpy and no
 * interpreter in the way.
 *
 * Decoding follows docs/heaptrace-formats.md section 2.1: each little-endian
 * word XOR 0xC5ACCE55 has a header byte and three payload bytes; one LIFO
 * stack of open frames per record kind, so an interrupt's record nested
 * between two words of another is decoded as heapgui decodes it. A word with
 * an unknown header, or a continuation with no open frame, is skipped: the
 * reference is for clean traces and counts what it skips.
 *
 *     count_sizes FILE   ->   "SIZE COUNT" lines, ascending, then "records N skipped M"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY 0xC5ACCE55u
#define PIECE (1u << 20) /* bytes read at a time: the whole file is never in memory */
#define DEPTH 4096       /* open frames kept per kind, as heapgui's MAX_OPEN_FRAMES */

/* Open addressing from size to count; sizes are few, so the table stays small. */
static uint32_t *keys;
static uint64_t *counts;
static uint8_t *used;
static size_t slots = 1024, filled;

static size_t slot_of(uint32_t size) {
    size_t at = (size * 2654435761u) & (slots - 1);
    while (used[at] && keys[at] != size)
        at = (at + 1) & (slots - 1);
    return at;
}

static void grow_table(void) {
    uint32_t *old_keys = keys;
    uint64_t *old_counts = counts;
    uint8_t *old_used = used;
    size_t old_slots = slots;
    slots *= 2;
    keys = calloc(slots, sizeof *keys);
    counts = calloc(slots, sizeof *counts);
    used = calloc(slots, 1);
    if (!keys || !counts || !used) {
        perror("count_sizes");
        exit(2);
    }
    for (size_t i = 0; i < old_slots; i++) {
        if (old_used[i]) {
            size_t at = slot_of(old_keys[i]);
            used[at] = 1;
            keys[at] = old_keys[i];
            counts[at] = old_counts[i];
        }
    }
    free(old_keys);
    free(old_counts);
    free(old_used);
}

static void count(uint32_t size) {
    size_t at = slot_of(size);
    if (!used[at]) {
        if (2 * (filled + 1) > slots) {
            grow_table();
            at = slot_of(size);
        }
        used[at] = 1;
        keys[at] = size;
        filled++;
    }
    counts[at]++;
}

static int by_size(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* One open frame: the payload bytes gathered so far and the next word expected. */
struct frame {
    uint8_t bytes[8];
    int part;
};
static struct frame stacks[4][DEPTH];
static int depth[4];
static uint64_t records, skipped;

static void word(uint32_t w) {
    w ^= KEY;
    unsigned header = w >> 24;
    uint8_t p0 = (w >> 16) & 0xFF, p1 = (w >> 8) & 0xFF, p2 = w & 0xFF;
    int kind, part;
    switch (header) {
    case 0xA1: kind = 0; part = 0; break;
    case 0xA2: kind = 0; part = 1; break;
    case 0xD1: kind = 1; part = 0; break;
    case 0xD2: kind = 1; part = 1; break;
    case 0xB1: kind = 2; part = 0; break;
    case 0xB2: kind = 2; part = 1; break;
    case 0xB3: kind = 2; part = 2; break;
    case 0xC1: kind = 3; part = 0; break;
    case 0xC2: kind = 3; part = 1; break;
    case 0xC3: kind = 3; part = 2; break;
    default: skipped++; return;
    }
    if (part == 0) {
        if (depth[kind] == DEPTH) { /* drop the oldest frame, as heapgui does */
            memmove(stacks[kind], stacks[kind] + 1, (DEPTH - 1) * sizeof(struct frame));
            depth[kind]--;
        }
        struct frame *f = &stacks[kind][depth[kind]++];
        f->bytes[0] = p0;
        f->bytes[1] = p1;
        f->bytes[2] = p2;
        f->part = 1;
        return;
    }
    if (!depth[kind] || stacks[kind][depth[kind] - 1].part != part) {
        skipped++;
        return;
    }
    struct frame *f = &stacks[kind][depth[kind] - 1];
    if (kind < 2) { /* alloc, dealloc: A2/D2 needs p0 = p1 = 0 */
        if (p0 || p1) {
            skipped++;
            return;
        }
        f->bytes[3] = p2;
    } else if (part == 1) {
        f->bytes[3] = p0;
        f->bytes[4] = p1;
        f->bytes[5] = p2;
        f->part = 2;
        return;
    } else { /* B3/C3 needs p0 = 0 */
        if (p0) {
            skipped++;
            return;
        }
        f->bytes[6] = p1;
        f->bytes[7] = p2;
    }
    depth[kind]--;
    records++;
    count((uint32_t)f->bytes[0] << 24 | (uint32_t)f->bytes[1] << 16 |
          (uint32_t)f->bytes[2] << 8 | f->bytes[3]);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: count_sizes FILE\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    keys = calloc(slots, sizeof *keys);
    counts = calloc(slots, sizeof *counts);
    used = calloc(slots, 1);
    static uint8_t piece[PIECE];
    size_t kept = 0, got;
    while ((got = fread(piece + kept, 1, PIECE - kept, in)) > 0) {
        size_t have = kept + got, at = 0;
        for (; at + 4 <= have; at += 4)
            word((uint32_t)piece[at] | (uint32_t)piece[at + 1] << 8 |
                 (uint32_t)piece[at + 2] << 16 | (uint32_t)piece[at + 3] << 24);
        kept = have - at; /* a word cut by the piece's end waits for the next piece */
        memmove(piece, piece + at, kept);
    }
    if (ferror(in)) {
        perror(argv[1]);
        return 2;
    }
    fclose(in);
    uint32_t *sizes = malloc((filled ? filled : 1) * sizeof *sizes);
    size_t n = 0;
    for (size_t i = 0; i < slots; i++)
        if (used[i])
            sizes[n++] = keys[i];
    qsort(sizes, n, sizeof *sizes, by_size);
    for (size_t i = 0; i < n; i++)
        printf("%u %llu\n", sizes[i], (unsigned long long)counts[slot_of(sizes[i])]);
    printf("records %llu skipped %llu\n", (unsigned long long)records,
           (unsigned long long)skipped);
    return 0;
}
