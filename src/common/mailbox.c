#include "mailbox.h"

#include <stddef.h>

void mailbox_init(mailbox *mb, void (*wake)(void *arg), void *wake_arg)
{
    pthread_mutex_init(&mb->lock, NULL);
    mb->head = mb->tail = NULL;
    mb->wake = wake;
    mb->wake_arg = wake_arg;
}

void mailbox_destroy(mailbox *mb)
{
    pthread_mutex_destroy(&mb->lock);
}

void mailbox_push(mailbox *mb, mailbox_msg *msg)
{
    msg->next = NULL;
    pthread_mutex_lock(&mb->lock);
    if (mb->tail)
        mb->tail->next = msg;
    else
        mb->head = msg;
    mb->tail = msg;
    pthread_mutex_unlock(&mb->lock);
    if (mb->wake)
        mb->wake(mb->wake_arg);
}

mailbox_msg *mailbox_take_all(mailbox *mb)
{
    pthread_mutex_lock(&mb->lock);
    mailbox_msg *all = mb->head;
    mb->head = mb->tail = NULL;
    pthread_mutex_unlock(&mb->lock);
    return all;
}
