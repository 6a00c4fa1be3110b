// The app host's office-hours power schedule on AWS (studyhost:powerSchedule): two EventBridge
// Scheduler schedules that call EC2's StopInstances and StartInstances through the universal target,
// and an IAM role they assume that may do only that, only to this instance. Loaded with ./aws.ts only.
//
// Data safety: these resources only point at the instance; nothing in them is an input of the instance,
// its volume, its attachment or its elastic IP, so adding, changing or removing the schedule never
// replaces (or even updates) any of those. A stop is a clean shutdown (ACPI: systemd stops the app and
// PostgreSQL in order); the EBS volumes stay attached and the elastic IP stays associated.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { PowerScheduleSpec } from "./types";

/** EventBridge Scheduler's universal targets for EC2's two calls. */
export const EC2_START_TARGET = "arn:aws:scheduler:::aws-sdk:ec2:startInstances";
export const EC2_STOP_TARGET = "arn:aws:scheduler:::aws-sdk:ec2:stopInstances";

/**
 * A start or stop that could not be made within this time is dropped rather than made late (the
 * default would keep retrying for 24 hours: a stop retried the next morning would switch the study off
 * during office hours).
 */
export const POWER_RETRY = { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 };

export function createPowerSchedule(parent: pulumi.Resource, name: string, spec: PowerScheduleSpec): void {
  const role = new aws.iam.Role(
    `${name}-power-role`,
    {
      description: `studyhost: lets EventBridge Scheduler start and stop ${name}'s instance on its power schedule`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "scheduler.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    },
    { parent },
  );
  new aws.iam.RolePolicy(
    `${name}-power-policy`,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["ec2:StartInstances", "ec2:StopInstances"], Resource: spec.instanceArn }],
      }),
    },
    { parent },
  );
  const input = pulumi.jsonStringify({ InstanceIds: [spec.instanceId] });
  const schedule = (which: "on" | "off", expression: string, target: string, what: string) =>
    new aws.scheduler.Schedule(
      `${name}-power-${which}`,
      {
        region: spec.region,
        description: `studyhost: ${what} ${name}'s instance (${which === "on" ? spec.on : spec.off}, ${spec.timezone})`,
        scheduleExpression: expression,
        scheduleExpressionTimezone: spec.timezone,
        flexibleTimeWindow: { mode: "OFF" },
        state: "ENABLED",
        target: { arn: target, roleArn: role.arn, input, retryPolicy: POWER_RETRY },
      },
      { parent },
    );
  schedule("on", spec.onExpression, EC2_START_TARGET, "start");
  schedule("off", spec.offExpression, EC2_STOP_TARGET, "stop");
}
