#!/usr/bin/env python3
"""Seed a freshly started moto server with the identities the tests use, then turn
IAM enforcement on.

Run by start.sh with the stack venv's python (it needs boto3, which moto pulls in).
Must run while auth is still OFF: with auth on nothing can be created without keys,
and the keys are what we are creating.

Creates
  account 123456789012 (moto's default; the sharer's account):
    user datashare-admin   inline policy Allow * on *          + access key
    user datashare-sharer  inline policy Allow sts:AssumeRole   + access key
  account 222233334444 (an end user's own account):
    role datashare-admin   inline policy Allow * on *, trusted by the admin user.
    With auth on, the only way to act in that account is through credentials that
    belong to it: the admin user assumes this role (moto never checks the trust
    policy of a role in another account, but it does need the role to exist,
    because it evaluates the role's policies on every request).

Moto generates access keys from its own RNG; we seed it first so that the same
keys come out every time. That way a restarted moto (state is in memory only)
gets the same credentials back and .stack/env stays valid.

Writes shell `export K=V` lines with the created credentials (and any --extra K=V)
to --out.
"""
import argparse
import json
import os
import sys
import tempfile
import urllib.request

import boto3
import botocore.exceptions

SHARER_ACCOUNT = "123456789012"  # moto's DEFAULT_ACCOUNT_ID
OTHER_ACCOUNT = "222233334444"
REGION = "us-east-1"
RNG_SEED = 20240229


def moto_api(endpoint: str, path: str, body: bytes = b"") -> bytes:
    # Content-Type matters: with the form-encoded type that urllib (and `curl -d`)
    # send by default, Flask eats the body and /moto-api/reset-auth answers 500.
    req = urllib.request.Request(
        endpoint + path, data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def client(endpoint, service, creds=None):
    # Before auth is on, any key works and lands in the default account.
    creds = creds or {"AccessKeyId": "bootstrap", "SecretAccessKey": "bootstrap"}
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
    )


def policy(action, resource="*"):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    )


def user_with_key(iam, name, policy_doc):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-inline", PolicyDocument=policy_doc)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="K=V",
        help="extra line for --out (docker-compose uses it to write a complete env file)",
    )
    args = ap.parse_args()
    ep = args.endpoint.rstrip("/")

    # Start from a clean, auth-off, deterministically seeded server (also makes a
    # re-run after a half-finished bootstrap safe).
    moto_api(ep, "/moto-api/reset")
    moto_api(ep, "/moto-api/reset-auth", b"inf")
    moto_api(ep, f"/moto-api/seed?a={RNG_SEED}")

    iam = client(ep, "iam")
    admin_id, admin_secret = user_with_key(iam, "datashare-admin", policy("*"))
    sharer_id, sharer_secret = user_with_key(iam, "datashare-sharer", policy("sts:AssumeRole"))
    admin_arn = f"arn:aws:iam::{SHARER_ACCOUNT}:user/datashare-admin"
    sharer_arn = f"arn:aws:iam::{SHARER_ACCOUNT}:user/datashare-sharer"

    # Get credentials that belong to the other account: moto lets anyone assume a
    # role ARN in another account, even one that does not exist yet, and the
    # returned keys act in the account named in the ARN.
    boot = client(ep, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/bootstrap", RoleSessionName="bootstrap"
    )["Credentials"]
    other_iam = client(ep, "iam", boot)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}],
        }
    )
    other_admin_role_arn = other_iam.create_role(RoleName="datashare-admin", AssumeRolePolicyDocument=trust)[
        "Role"
    ]["Arn"]
    other_iam.put_role_policy(RoleName="datashare-admin", PolicyName="all", PolicyDocument=policy("*"))

    # IAM enforcement on from the next request.
    moto_api(ep, "/moto-api/reset-auth", b"0")

    # Self-check with auth on, so a broken bootstrap fails here and not in a test.
    admin = {"AccessKeyId": admin_id, "SecretAccessKey": admin_secret}
    assert client(ep, "sts", admin).get_caller_identity()["Arn"] == admin_arn
    try:
        client(ep, "s3", {"AccessKeyId": "AKIANOTAKEY", "SecretAccessKey": "x"}).list_buckets()
        sys.exit("moto-bootstrap: auth is not enforced after reset-auth")
    except botocore.exceptions.ClientError:
        pass
    other = client(ep, "sts", admin).assume_role(RoleArn=other_admin_role_arn, RoleSessionName="bootstrap-check")[
        "Credentials"
    ]
    assert client(ep, "sts", other).get_caller_identity()["Account"] == OTHER_ACCOUNT
    client(ep, "iam", other).list_roles()

    values = {
        "AWS_ACCESS_KEY_ID": sharer_id,
        "AWS_SECRET_ACCESS_KEY": sharer_secret,
        "DATASHARE_ADMIN_ACCESS_KEY_ID": admin_id,
        "DATASHARE_ADMIN_SECRET_ACCESS_KEY": admin_secret,
        "DATASHARE_ACCOUNT_ID": SHARER_ACCOUNT,
        "DATASHARE_ADMIN_ARN": admin_arn,
        "DATASHARE_SHARER_ARN": sharer_arn,
        "DATASHARE_OTHER_ACCOUNT_ID": OTHER_ACCOUNT,
        "DATASHARE_OTHER_ADMIN_ROLE_ARN": other_admin_role_arn,
    }
    for kv in args.extra:
        k, _, v = kv.partition("=")
        values[k] = v
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(args.out)))
    with os.fdopen(fd, "w") as f:
        for k, v in values.items():
            f.write(f"export {k}={v}\n")
    os.chmod(tmp, 0o644)  # fake credentials; readable by the host user when written from a container
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
