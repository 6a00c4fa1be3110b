// The office-hours power schedule (studyhost:powerSchedule): cron specs converted to EventBridge
// Scheduler's six-field cron, with one-line errors for what it cannot say; on AWS the plan gains
// exactly two schedules and a role limited to this instance, children of the app server, and changes
// nothing else; the cost table bills the instance for the hours it runs; DigitalOcean refuses the key.
import { ConfigError, powerUsage, ScheduleError, toEventBridgeCron } from "../src/config";
import { parseStudyConfig } from "../stacks/config";
import { EC2_START_TARGET, EC2_STOP_TARGET } from "../src/clouds/awsPowerSchedule";
import { MOCK_AWS_ACCOUNT, PlanResult } from "../src/plan";
import { ofType, one, planOf, studyConfig } from "./helpers";

const T = {
  schedule: "aws:scheduler/schedule:Schedule",
  role: "aws:iam/role:Role",
  policy: "aws:iam/rolePolicy:RolePolicy",
  instance: "aws:ec2/instance:Instance",
  appServer: "studyhost:compute:AppServer",
};

describe("cron specs become EventBridge Scheduler expressions", () => {
  test.each([
    ["0 8 * * *", "cron(0 8 * * ? *)"],
    ["0 8 * * mon-fri", "cron(0 8 ? * MON-FRI *)"],
    ["30 21 * * 1-5", "cron(30 21 ? * MON-FRI *)"],
    ["0 22 * * 0,6", "cron(0 22 ? * SUN,SAT *)"],
    ["0 7 * * 5-7", "cron(0 7 ? * SUN,FRI,SAT *)"],
    ["0 8 * * 7", "cron(0 8 ? * SUN *)"],
    ["0 8 * * sun-sat", "cron(0 8 * * ? *)"],
    ["0 8 1 * *", "cron(0 8 1 * ? *)"],
    ["0 8 1-15 jan-mar *", "cron(0 8 1-15 1-3 ? *)"],
    ["0 8 */2 * *", "cron(0 8 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * ? *)"],
    ["*/15 8-18 * * *", "cron(0,15,30,45 8-18 * * ? *)"],
    ["0 6,7 * 1,2,3,12 mon,wed,thu", "cron(0 6,7 ? 1-3,12 MON,WED,THU *)"],
    ["@daily", "cron(0 0 * * ? *)"],
    [" 0 8 * * MON-FRI ", "cron(0 8 ? * MON-FRI *)"],
  ])("%s → %s", (spec, expected) => {
    expect(toEventBridgeCron(spec)).toBe(expected);
  });

  test.each([
    ["0 8 1 * mon", /restricts both the day of month and the day of week/],
    ["0 8 */2 * mon", /restricts both the day of month and the day of week/],
    ["daily", /takes cron, not a systemd OnCalendar expression/],
    ["*-*-* 08:00:00", /takes cron, not a systemd OnCalendar expression/],
    ["0 8 * *", /a cron spec has 5 fields, this has 4/],
    ["0 25 * * *", /the hour 25 is outside 0-23/],
    ["@reboot", /@reboot is not a schedule/],
    ["0 8 * * mon-fry", /not a number or one of sun/],
  ])("%s is refused", (spec, why) => {
    expect(() => toEventBridgeCron(spec)).toThrow(ScheduleError);
    expect(() => toEventBridgeCron(spec)).toThrow(why);
  });

  test("the share of hours running and the calls a month, for the cost table", () => {
    const daily = powerUsage({ on: "0 8 * * *", off: "0 22 * * *" });
    expect(daily.runningShare).toBeCloseTo(14 / 24, 3);
    expect(daily.invocationsPerMonth).toBe(61);
    // Weekdays only: 14 of 168 hours, five days a week (2026 has 261 weekdays).
    const weekdays = powerUsage({ on: "0 8 * * mon-fri", off: "0 22 * * mon-fri" });
    expect(weekdays.runningShare).toBeCloseTo((261 * 14) / (365 * 24), 3);
    // Off at night on weekdays only: runs all weekend.
    expect(powerUsage({ on: "0 7 * * mon", off: "0 19 * * fri" }).runningShare).toBeCloseTo((4 * 24 + 12) / 168, 1);
  });
});

describe("one-line errors", () => {
  const error = (cloud: "aws" | "digitalocean", powerSchedule: unknown) => {
    try {
      parseStudyConfig(studyConfig(cloud, "small", { database: { engine: "sqlite" }, powerSchedule }));
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).not.toContain("\n");
      return (e as Error).message;
    }
    throw new Error("expected a ConfigError");
  };

  test("DigitalOcean refuses the key, and says why and what to do instead", () => {
    expect(error("digitalocean", { on: "0 8 * * *", off: "0 22 * * *" })).toBe(
      'studyhost:powerSchedule: got {"on":"0 8 * * *","off":"0 22 * * *"}; DigitalOcean bills a powered-off droplet in full (its CPU, memory and address stay reserved), so switching it off on a schedule saves nothing; remove studyhost:powerSchedule, or pick a smaller studyhost:sizes.app, or use cloud: aws, where a stopped instance\'s compute is not billed',
    );
  });

  test.each([
    [
      { on: "0 8 1 * mon", off: "0 22 * * *" },
      'studyhost:powerSchedule.on: got "0 8 1 * mon"; expected a cron spec (minute hour day month weekday) such as "0 8 * * mon-fri" (it restricts both the day of month and the day of week, and EventBridge Scheduler takes only one of them (the other must be ?); keep one, such as "0 8 * * mon-fri" or "0 8 1-15 * *")',
    ],
    [
      { on: "0 8 * * *", off: "22:00" },
      'studyhost:powerSchedule.off: got "22:00"; expected a cron spec (minute hour day month weekday) such as "0 8 * * mon-fri" (a power schedule takes cron, not a systemd OnCalendar expression)',
    ],
    [{ on: "0 8 * * *" }, 'studyhost:powerSchedule.off: missing; expected a cron spec (minute hour day month weekday) such as "0 8 * * mon-fri"'],
    [
      { on: "0 8 * * *", off: "0 22 * * *", timezone: "Mars/Olympus" },
      'studyhost:powerSchedule.timezone: got "Mars/Olympus"; expected an IANA time zone such as Europe/London or UTC',
    ],
    [
      { on: "0 8 * * *", off: "0 8 * * mon-fri" },
      'studyhost:powerSchedule.off: got "0 8 * * mon-fri"; on and off both fire at the same minute (the first in 2026: 2026-01-01 08:00); expected times that differ',
    ],
    [{ on: "0 8 * * *", off: "0 22 * * *", tz: "UTC" }, "studyhost:powerSchedule.tz: unknown key; valid keys here are on, off, timezone"],
  ])("%j", (powerSchedule, message) => {
    expect(error("aws", powerSchedule)).toBe(message);
  });

  test("defaults: UTC", () => {
    expect(
      parseStudyConfig(studyConfig("aws", "small", { database: { engine: "sqlite" }, powerSchedule: { on: "0 8 * * *", off: "0 22 * * *" } })).powerSchedule,
    ).toEqual({ on: "0 8 * * *", off: "0 22 * * *", timezone: "UTC" });
  });
});

describe("on AWS, the plan", () => {
  const power = { on: "0 8 * * mon-fri", off: "30 21 * * mon-fri", timezone: "Europe/London" };
  let plain: PlanResult;
  let scheduled: PlanResult;
  beforeAll(async () => {
    plain = await planOf(studyConfig("aws", "large", { region: "eu-west-2" }));
    scheduled = await planOf(studyConfig("aws", "large", { region: "eu-west-2", powerSchedule: power }));
  }, 60000);

  test("gains two schedules, a role and its policy, children of the app server, named from it", () => {
    const added = scheduled.resources.filter((r) => !plain.resources.some((p) => p.urn === r.urn));
    expect(added.map((r) => [r.type, r.name]).sort()).toEqual(
      [
        [T.policy, "study-app-power-policy"],
        [T.role, "study-app-power-role"],
        [T.schedule, "study-app-power-off"],
        [T.schedule, "study-app-power-on"],
      ].sort(),
    );
    const app = one(scheduled, T.appServer);
    for (const r of added) {
      expect([r.name, r.parent]).toEqual([r.name, app.urn]);
      expect([r.name, r.options.protect, r.options.deleteBeforeReplace]).toEqual([r.name, false, false]);
    }
  });

  test("nothing else changes: every other resource has the same inputs and options", () => {
    const strip = (p: PlanResult) => p.resources.filter((r) => !/-power-/.test(r.name)).map((r) => ({ urn: r.urn, inputs: r.inputs, options: r.options }));
    expect(strip(scheduled)).toEqual(strip(plain));
  });

  test("the schedules: expression, time zone, universal target, the instance's id as input, no late retries", () => {
    const schedule = (name: string) => one(scheduled, T.schedule, name).inputs as Record<string, any>;
    const on = schedule("study-app-power-on");
    const off = schedule("study-app-power-off");
    expect(on.scheduleExpression).toBe("cron(0 8 ? * MON-FRI *)");
    expect(off.scheduleExpression).toBe("cron(30 21 ? * MON-FRI *)");
    for (const s of [on, off]) {
      expect(s.scheduleExpressionTimezone).toBe("Europe/London");
      expect(s.region).toBe("eu-west-2");
      expect(s.flexibleTimeWindow).toEqual({ mode: "OFF" });
      expect(s.state).toBe("ENABLED");
      expect(s.target.retryPolicy).toEqual({ maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 });
      expect(s.target.roleArn).toMatch(new RegExp(`^arn:aws:iam::${MOCK_AWS_ACCOUNT}:role/study-app-power-role`));
      expect(JSON.parse(s.target.input)).toEqual({ InstanceIds: [expect.stringMatching(/^i-0[0-9a-f]{16}$/)] });
    }
    expect(on.target.arn).toBe(EC2_START_TARGET);
    expect(off.target.arn).toBe(EC2_STOP_TARGET);
    expect(JSON.parse(on.target.input)).toEqual(JSON.parse(off.target.input));
  });

  test("the role: assumed only by EventBridge Scheduler; may only start and stop this one instance", () => {
    const role = one(scheduled, T.role, "study-app-power-role").inputs as Record<string, any>;
    expect(JSON.parse(role.assumeRolePolicy)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "scheduler.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const policy = one(scheduled, T.policy, "study-app-power-policy").inputs as Record<string, any>;
    const schedule = one(scheduled, T.schedule, "study-app-power-on").inputs as Record<string, any>;
    const [instanceId] = JSON.parse(schedule.target.input).InstanceIds;
    expect(JSON.parse(policy.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: ["ec2:StartInstances", "ec2:StopInstances"], Resource: `arn:aws:ec2:eu-west-2:${MOCK_AWS_ACCOUNT}:instance/${instanceId}` },
      ],
    });
    expect(ofType(scheduled, T.instance).length).toBe(1);
  });

  test("the cost table bills the instance for the hours it runs; disks and the address all month; the schedules nothing", () => {
    const items = (p: PlanResult) => Object.fromEntries(p.cost.items.map((i) => [i.item, i.monthlyUsd]));
    const before = items(plain);
    const after = items(scheduled);
    const machine = Object.keys(before).find((k) => k.startsWith("study-app: EC2 instance "))!;
    const share = powerUsage(power).runningShare;
    expect(after[`${machine}, running ${Math.round(share * 100)}% of hours (powerSchedule)`]).toBe(Math.round(before[machine] * share * 100) / 100);
    for (const [item, usd] of Object.entries(before)) if (item !== machine) expect([item, after[item]]).toEqual([item, usd]);
    expect(after["study-app: EventBridge Scheduler, 2 schedules, about 44 calls a month (free tier: 14 million a month)"]).toBe(0);
    expect(scheduled.cost.monthlyUsd).toBeLessThan(plain.cost.monthlyUsd);
  });
});
