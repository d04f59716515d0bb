/*
 * The queue directory of calling.queue.enter (calling/queue_dir.c):
 * first in first out per (project, name), positions counted from the head
 * and reported to those behind whoever leaves, a queue freed with its last
 * entry (a new one gets a new id), and both bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "calling/queue_dir.h"

typedef struct moved_log {
    queue_entry *who[8];
    size_t pos[8], size[8], n;
} moved_log;

static void moved(queue_entry *e, size_t position, size_t size, void *user)
{
    moved_log *l = user;
    assert_true(l->n < 8);
    l->who[l->n] = e;
    l->pos[l->n] = position;
    l->size[l->n++] = size;
}

static void first_in_first_out_with_positions(void **state)
{
    (void)state;
    queue_dir *d = queue_dir_new(10, 10);
    assert_non_null(d);
    queue_entry a = {0}, b = {0}, c = {0}, other = {0};
    assert_int_equal(queue_dir_join(d, "p", "support", &a), QUEUE_JOINED);
    assert_int_equal(queue_dir_join(d, "p", "support", &b), QUEUE_JOINED);
    assert_int_equal(queue_dir_join(d, "p", "support", &c), QUEUE_JOINED);
    /* same name, another project: another queue */
    assert_int_equal(queue_dir_join(d, "q", "support", &other), QUEUE_JOINED);
    assert_int_equal(queue_dir_count(d), 2);
    assert_int_equal(queue_entry_position(&a), 1);
    assert_int_equal(queue_entry_position(&c), 3);
    assert_int_equal(queue_entry_size(&b), 3);
    assert_int_equal(queue_entry_size(&other), 1);
    assert_string_equal(queue_entry_queue_name(&a), "support");
    assert_string_equal(queue_entry_queue_id(&a), queue_entry_queue_id(&c));
    assert_string_not_equal(queue_entry_queue_id(&a), queue_entry_queue_id(&other));
    assert_ptr_equal(queue_dir_head(d, "p", "support"), &a);
    assert_ptr_equal(queue_dir_head(d, "q", "support"), &other);
    assert_null(queue_dir_head(d, "p", "sales"));

    /* the middle one leaves: only c moves up */
    moved_log l = {0};
    queue_dir_leave(d, &b, moved, &l);
    assert_int_equal(l.n, 1);
    assert_ptr_equal(l.who[0], &c);
    assert_int_equal(l.pos[0], 2);
    assert_int_equal(l.size[0], 2);
    assert_int_equal(queue_entry_position(&b), 0);
    queue_dir_leave(d, &b, moved, &l); /* in none: nothing */
    assert_int_equal(l.n, 1);

    /* the head leaves: c is the head */
    queue_dir_leave(d, &a, moved, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.pos[1], 1);
    assert_int_equal(l.size[1], 1);
    assert_ptr_equal(queue_dir_head(d, "p", "support"), &c);

    /* the last one leaves: the queue goes; a new one has a new id */
    char old_id[40];
    strcpy(old_id, queue_entry_queue_id(&c));
    queue_dir_leave(d, &c, moved, &l);
    assert_int_equal(l.n, 2);
    assert_null(queue_dir_head(d, "p", "support"));
    assert_int_equal(queue_dir_count(d), 1);
    assert_int_equal(queue_dir_join(d, "p", "support", &a), QUEUE_JOINED);
    assert_string_not_equal(queue_entry_queue_id(&a), old_id);
    queue_dir_free(d); /* with entries still in: they are only unlinked */
    assert_int_equal(queue_entry_position(&a), 0);
    assert_int_equal(queue_entry_position(&other), 0);
}

static void bounds(void **state)
{
    (void)state;
    queue_dir *d = queue_dir_new(1, 2);
    queue_entry a = {0}, b = {0}, c = {0};
    assert_int_equal(queue_dir_join(d, "p", "support", &a), QUEUE_JOINED);
    assert_int_equal(queue_dir_join(d, "p", "support", &b), QUEUE_JOINED);
    assert_int_equal(queue_dir_join(d, "p", "support", &c), QUEUE_FULL);
    assert_int_equal(queue_dir_join(d, "p", "sales", &c), QUEUE_TOO_MANY);
    assert_int_equal(queue_entry_position(&c), 0);
    queue_dir_set_limits(d, 2, 3); /* a reload */
    assert_int_equal(queue_dir_join(d, "p", "sales", &c), QUEUE_JOINED);
    queue_dir_leave(d, &a, NULL, NULL);
    queue_dir_leave(d, &b, NULL, NULL);
    queue_dir_leave(d, &c, NULL, NULL);
    assert_int_equal(queue_dir_count(d), 0);
    queue_dir_free(d);
    queue_dir_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_in_first_out_with_positions),
        cmocka_unit_test(bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
