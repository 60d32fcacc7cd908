import { describe, expect, it } from 'vitest';
import { checkInstance, instanceOfProfile, type Instance } from '../../common/domain/instances';
import { actsAs } from '../../worker/served-instance';

const instance = (name: string, partition: Instance['partition'], region: string, account: string): Instance =>
  checkInstance({
    name,
    partition,
    region,
    principalArn: `arn:${partition}:iam::${account}:root`,
    taskQueue: `datashare-${name}`,
  });

// The seed's four sharer deployments.
const US = instance('us-east', 'aws', 'us-east-1', '251497699814');
const EU = instance('eu-central', 'aws', 'eu-central-1', '266735830005');
const AP = instance('ap-southeast', 'aws', 'ap-southeast-1', '897722681642');
const GOV = instance('us-gov-east', 'aws-us-gov', 'us-gov-east-1', '184115685153');

describe('instances', () => {
  it('refuses a region or principal of another partition than the instance', () => {
    expect(() => checkInstance({ ...GOV, region: 'us-east-1' })).toThrow(
      /--region "us-east-1" is in partition aws, not aws-us-gov/,
    );
    expect(() => checkInstance({ ...GOV, principalArn: 'arn:aws:iam::184115685153:root' })).toThrow(
      /partitions share no identities/,
    );
    expect(() => checkInstance({ ...US, taskQueue: 'has space' })).toThrow(/--task-queue/);
    expect(() => checkInstance({ ...US, partition: 'aws-mars' })).toThrow(/--partition/);
  });

  it("derives a GovCloud profile's instance from its role's partition, the only instance serving it", () => {
    expect(instanceOfProfile('gov-user', { partition: 'aws-us-gov' }, [US, EU, AP, GOV])).toBe(GOV);
  });

  it('needs s3_instance when several instances serve the partition, and honours it', () => {
    expect(() => instanceOfProfile('acme', { partition: 'aws' }, [US, EU, AP, GOV])).toThrow(
      /any of the instances us-east, eu-central, ap-southeast .* s3_instance=<name>/,
    );
    expect(instanceOfProfile('acme', { partition: 'aws', instance: 'eu-central' }, [US, EU, AP, GOV])).toBe(EU);
  });

  it('refuses an s3_instance that does not exist or is of another partition', () => {
    expect(() => instanceOfProfile('acme', { partition: 'aws', instance: 'nope' }, [US])).toThrow(/no such instance/);
    expect(() => instanceOfProfile('acme', { partition: 'aws', instance: 'us-gov-east' }, [US, GOV])).toThrow(
      /partition aws-us-gov, but its role is in partition aws/,
    );
  });

  it('leaves a profile of a partition no instance serves to the defaults, as without instances', () => {
    expect(instanceOfProfile('acme', { partition: 'aws-cn' }, [US, GOV])).toBeUndefined();
    expect(instanceOfProfile('acme', { partition: 'aws' }, [])).toBeUndefined();
  });

  it("tells whether the worker's identity acts as the instance's principal", () => {
    expect(actsAs('arn:aws:iam::251497699814:user/sharer', US.principalArn)).toBe(true);
    expect(actsAs('arn:aws:sts::251497699814:assumed-role/worker/i-1', US.principalArn)).toBe(true);
    expect(actsAs('arn:aws:iam::266735830005:user/sharer', US.principalArn)).toBe(false);
    expect(actsAs('arn:aws:iam::111122223333:user/a', 'arn:aws:iam::111122223333:user/b')).toBe(false);
    expect(actsAs('arn:aws:sts::111122223333:assumed-role/w/s', 'arn:aws:iam::111122223333:role/path/w')).toBe(true);
    expect(actsAs('arn:aws:sts::111122223333:assumed-role/x/s', 'arn:aws:iam::111122223333:role/w')).toBe(false);
    expect(actsAs('arn:aws-us-gov:iam::184115685153:user/s', 'arn:aws:iam::184115685153:root')).toBe(false);
  });
});
