-- CreateTable
CREATE TABLE "AuditEntry" (
    "seq" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "accountId" UUID NOT NULL,
    "keyId" TEXT,
    "keyName" TEXT,
    "action" TEXT NOT NULL,
    "subjectType" TEXT NOT NULL,
    "subjectId" TEXT,
    "before" JSONB,
    "after" JSONB,
    "phoneHash" TEXT,
    "requestId" TEXT,

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE INDEX "AuditEntry_accountId_seq_idx" ON "AuditEntry"("accountId", "seq");

-- CreateIndex
CREATE INDEX "AuditEntry_accountId_action_seq_idx" ON "AuditEntry"("accountId", "action", "seq");

-- CreateIndex
CREATE INDEX "AuditEntry_accountId_subjectType_subjectId_idx" ON "AuditEntry"("accountId", "subjectType", "subjectId");

-- CreateIndex
CREATE INDEX "AuditEntry_phoneHash_idx" ON "AuditEntry"("phoneHash");

-- Hand-written: the audit log is append-only in the database itself, whatever the client.
-- Herald has no statement that changes or deletes an entry; these triggers refuse one from
-- anyone else (a psql session, a bug), row by row for UPDATE and DELETE and for TRUNCATE.
-- Only dropping the triggers (a schema change, itself visible) can get around them.
CREATE FUNCTION "audit_entry_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on "AuditEntry" is refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "AuditEntry_no_update_delete" BEFORE UPDATE OR DELETE ON "AuditEntry"
  FOR EACH ROW EXECUTE FUNCTION "audit_entry_append_only"();

CREATE TRIGGER "AuditEntry_no_truncate" BEFORE TRUNCATE ON "AuditEntry"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_entry_append_only"();
