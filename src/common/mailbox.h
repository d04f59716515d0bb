/*
 * A mailbox: how other threads hand work to an owner thread. Producers push
 * messages from any thread; the owner drains them all at once on its own
 * thread. After every push the mailbox calls wake(), which the owner sets
 * to whatever rouses its loop (lws_cancel_service, an eventfd write...).
 *
 * Messages are intrusive: embed a mailbox_msg as the first member of your
 * struct. The mailbox never allocates or frees them.
 */
#ifndef RELAY_COMMON_MAILBOX_H
#define RELAY_COMMON_MAILBOX_H

#include <pthread.h>

typedef struct mailbox_msg {
    struct mailbox_msg *next;
} mailbox_msg;

typedef struct mailbox {
    pthread_mutex_t lock;
    mailbox_msg *head, *tail;
    void (*wake)(void *arg);
    void *wake_arg;
} mailbox;

void mailbox_init(mailbox *mb, void (*wake)(void *arg), void *wake_arg);
void mailbox_destroy(mailbox *mb); /* the mailbox must be empty */
void mailbox_push(mailbox *mb, mailbox_msg *msg);
/* Takes every queued message, oldest first, as a NULL-terminated list. */
mailbox_msg *mailbox_take_all(mailbox *mb);

#endif
