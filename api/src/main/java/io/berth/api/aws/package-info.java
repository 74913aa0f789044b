/**
 * {@code POST /api/aws/sns}: Auto Scaling news delivered by SNS. Messages are checked against
 * their signing certificate, fetched only from SNS hosts, before a lifecycle event reaches the
 * capacity workflow (docs/AWS-DEPLOY.md).
 */
package io.berth.api.aws;
