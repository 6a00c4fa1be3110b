// The S3 side of an AWS host's files (./hostFilesBundle.ts says why they leave the user data): one
// private bucket per host holding its files' objects (one per plan that changed them, named by their
// content), and an instance role that may read only those.
// Loaded with ./aws.ts only.
//
// Data safety: nothing here holds data that is not rendered again by every plan, so the bucket may be
// destroyed with its objects (forceDestroy). An object is kept when a newer one replaces it
// (retainOnDelete): a machine replaced with its first user data still finds the files it names. The instance takes the profile as an updatable input: adding
// it to an existing instance does not replace the instance.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { HOST_FILES_PREFIX, splitHostFiles } from "./hostFilesBundle";

export interface HostFilesDelivery {
  /** The user data to boot with: everything but the files, and the command that fetches them. */
  readonly userData: pulumi.Output<string>;
  /** The instance profile that lets the instance read its files. */
  readonly instanceProfile: aws.iam.InstanceProfile;
  /** What the instance must wait for: its files are in place and its role may read them. */
  readonly ready: pulumi.Resource[];
}

export function deliverHostFiles(parent: pulumi.Resource, name: string, region: string, fullUserData: pulumi.Output<string>): HostFilesDelivery {
  const tags = { Name: `${name}-files`, "studyhost:role": "host-files" };
  const bucket = new aws.s3.Bucket(`${name}-files`, { region, forceDestroy: true, tags }, { parent });
  // Private whatever an account-wide setting says; encrypted at rest (SSE-S3) and only over TLS.
  new aws.s3.BucketPublicAccessBlock(
    `${name}-files-private`,
    { region, bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    { parent },
  );
  const tlsOnly = new aws.s3.BucketPolicy(
    `${name}-files-tls-only`,
    {
      region,
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    },
    { parent },
  );

  const split = pulumi.all([fullUserData, bucket.bucket]).apply(([text, bucketName]) => splitHostFiles(text, { bucket: bucketName, region }));
  const files = new aws.s3.BucketObjectv2(
    `${name}-files`,
    {
      region,
      bucket: bucket.id,
      // A sha256 of the files says nothing of the secrets in them: shown in plans and previews.
      key: pulumi.unsecret(split.apply((s) => s.key)),
      // The files hold the host's secrets (env files, database passwords): a Pulumi secret in state.
      contentBase64: pulumi.secret(split.apply((s) => s.bundle.toString("base64"))),
      contentType: "application/gzip",
      serverSideEncryption: "AES256",
      tags,
    },
    { parent, dependsOn: [tlsOnly], retainOnDelete: true },
  );

  const role = new aws.iam.Role(
    `${name}-role`,
    {
      description: `studyhost: ${name}'s instance reads its own files at first boot`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    },
    { parent },
  );
  // Reading the host's files objects is all the role may do (rclone's copyto asks HEAD then GET, no listing).
  const policy = new aws.iam.RolePolicy(
    `${name}-read-files`,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: pulumi.interpolate`${bucket.arn}/${HOST_FILES_PREFIX}*` }],
      }),
    },
    { parent },
  );
  const instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, { parent });
  return { userData: split.apply((s) => s.userData), instanceProfile, ready: [files, policy] };
}
