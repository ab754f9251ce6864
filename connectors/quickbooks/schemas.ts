/**
 * QuickBooks Online's answers as zod schemas: only what tandem reads, every other property passed
 * over. Property names are Intuit's (the JSON API uses the XSD element names).
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
 */
import { z } from 'zod';

/** Text as QBO sends it: absent or a string. */
const text = z.string().nullish();

/** A reference to another entity: `{"value": "<Id>", "name": "..."}`. */
export const qboRefSchema = z.object({ value: z.string(), name: text });

/** MetaData is set by QBO and read-only: LastUpdatedTime is the record's modification time. */
const metaDataSchema = z.object({ CreateTime: text, LastUpdatedTime: z.string() });

/** A TelephoneNumber (PrimaryPhone, Mobile, Fax). */
const phoneSchema = z.object({ FreeFormNumber: text });

/** A PhysicalAddress (BillAddr). */
export const qboAddressSchema = z.object({
  Id: text,
  Line1: text,
  Line2: text,
  Line3: text,
  City: text,
  CountrySubDivisionCode: text,
  PostalCode: text,
  Country: text,
});
export type QboAddress = z.infer<typeof qboAddressSchema>;

/** What Customer and Vendor share (NameBase). */
const nameBaseShape = {
  Id: z.string().min(1),
  SyncToken: z.string(),
  MetaData: metaDataSchema,
  DisplayName: text,
  CompanyName: text,
  Active: z.boolean().nullish(),
  PrimaryPhone: phoneSchema.nullish(),
  Mobile: phoneSchema.nullish(),
  Fax: phoneSchema.nullish(),
  PrimaryEmailAddr: z.object({ Address: text }).nullish(),
  WebAddr: z.object({ URI: text }).nullish(),
  BillAddr: qboAddressSchema.nullish(),
  CurrencyRef: qboRefSchema.nullish(),
  AcctNum: text,
};

/** A Customer. PrimaryTaxIdentifier is its tax id where the company's region has one. */
export const qboCustomerSchema = z.object({ ...nameBaseShape, PrimaryTaxIdentifier: text });
/** A Vendor. */
export const qboVendorSchema = z.object({ ...nameBaseShape, TaxIdentifier: text });
/** A Customer or a Vendor, as tandem reads them. */
export type QboName = z.infer<typeof qboCustomerSchema> | z.infer<typeof qboVendorSchema>;

/** An Account (of the chart of accounts); bank accounts are those of AccountType Bank. */
export const qboAccountSchema = z.object({
  Id: z.string().min(1),
  SyncToken: z.string(),
  MetaData: metaDataSchema,
  Name: text,
  AccountType: text,
  AcctNum: text,
  Active: z.boolean().nullish(),
  CurrencyRef: qboRefSchema.nullish(),
});
export type QboAccount = z.infer<typeof qboAccountSchema>;

/** An Estimate or PurchaseOrder as tandem reads it after starting one. */
export const qboDocumentSchema = z.object({
  Id: z.string().min(1),
  DocNumber: text,
  TxnDate: text,
  TxnStatus: text,
  POStatus: text,
  CustomerRef: qboRefSchema.nullish(),
  VendorRef: qboRefSchema.nullish(),
});
export type QboDocument = z.infer<typeof qboDocumentSchema>;

/** The QBO entity names tandem reads or writes. */
export type QboEntityName = 'Customer' | 'Vendor' | 'Account' | 'Estimate' | 'PurchaseOrder';

/** `{"<Entity>": {...}, "time": ...}`: the answer to a read, create or update of one entity, as the entity. */
export function entityAnswerSchema<S extends z.ZodType>(name: QboEntityName, entity: S) {
  return z.object({ [name]: entity }).transform((answer) => answer[name] as z.output<S>);
}

/** `{"QueryResponse": {"<Entity>": [...], "startPosition", "maxResults"}}` as the list (none: nothing matched). */
export function queryAnswerSchema<S extends z.ZodType>(name: QboEntityName, entity: S) {
  return z
    .object({ QueryResponse: z.object({ [name]: z.array(entity).optional() }) })
    .transform((answer): z.output<S>[] => answer.QueryResponse[name] ?? []);
}

/** One error of a Fault. */
export const qboErrorSchema = z.object({ Message: text, Detail: text, code: text, element: text });
/** A Fault: `{"Error": [...], "type": "ValidationFault"}`. */
export const qboFaultSchema = z.object({ Error: z.array(qboErrorSchema).default([]), type: text });
export type QboFault = z.infer<typeof qboFaultSchema>;

/** A failed call's body: `{"Fault": {...}, "time": ...}`. */
export const faultAnswerSchema = z.object({ Fault: qboFaultSchema });

/**
 * `GET /cdc`: one CDCResponse holding a QueryResponse per entity asked for, as the list of the
 * entity's changed records, and the deleted ones (status "Deleted", with little else than their Id
 * and the time of the deletion).
 */
export function cdcAnswerSchema<S extends z.ZodType>(name: QboEntityName, entity: S) {
  const item = z.union([
    z
      .object({
        Id: z.string(),
        status: z.literal('Deleted'),
        MetaData: z.object({ LastUpdatedTime: z.string() }).optional(),
      })
      .loose()
      .transform((deleted) => ({
        deleted: { Id: deleted.Id, LastUpdatedTime: deleted.MetaData?.LastUpdatedTime },
        record: undefined,
      })),
    entity.transform((record: z.output<S>) => ({ deleted: undefined, record })),
  ]);
  return z
    .object({
      CDCResponse: z
        .array(z.object({ QueryResponse: z.array(z.object({ [name]: z.array(item).optional() })).default([]) }))
        .min(1),
    })
    .transform((answer) => {
      const items = answer.CDCResponse.flatMap((response) => response.QueryResponse).flatMap(
        (list) => list[name] ?? [],
      );
      return {
        records: items.flatMap(({ record }) => (record === undefined ? [] : [record])),
        deleted: items.flatMap(({ deleted }) => (deleted === undefined ? [] : [deleted])),
      };
    });
}

/** `POST /batch`: one BatchItemResponse per item, each with its bId and the entity or a Fault. */
export function batchAnswerSchema<S extends z.ZodType>(name: QboEntityName, entity: S) {
  return z
    .object({
      BatchItemResponse: z.array(
        z.object({ bId: z.string(), [name]: entity.optional(), Fault: qboFaultSchema.optional() }),
      ),
    })
    .transform((answer) =>
      answer.BatchItemResponse.map((item) => ({
        bId: item.bId,
        entity: item[name] as z.output<S> | undefined,
        fault: item.Fault as QboFault | undefined,
      })),
    );
}

/**
 * The webhook body (legacy format): event notifications per company (realm), each naming the
 * entities that changed. https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks
 */
export const webhookBodySchema = z.object({
  eventNotifications: z.array(
    z.object({
      realmId: z.string().min(1),
      dataChangeEvent: z.object({
        entities: z.array(
          z.object({
            name: z.string().min(1),
            id: z.string().min(1),
            operation: z.string().min(1),
            lastUpdated: z.string().min(1),
            deletedId: z.string().optional(),
          }),
        ),
      }),
    }),
  ),
});
export type QboWebhookBody = z.infer<typeof webhookBodySchema>;
