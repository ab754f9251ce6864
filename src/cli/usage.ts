/** The text of `tandem --help`. */
export const USAGE = `usage: tandem <command> [arguments] [options]

daemon:
  start [--role all|api|worker|scheduler]      run the daemon
  config validate                              check the config file and exit
  status                                       role, uptime, connectors, queues, relations

business relations (talk to a running daemon):
  relations [--kind K] [--contact ID] [--limit N]
                                               list relations
  relation <relationId>                        one relation: both records side by side
  search <contact|customer|vendor|bankAccount> <text> [--limit N]
                                               find records by name, number, e-mail or VAT no.
  link <contactId> <customer|vendor|bankAccount> <accountId> [--winner contact|account] [--search]
                                               link a contact with an existing account
  unlink <relationId>                          remove a relation; both records stay
  create-account <contactId> <kind> [--template NAME] [--value key=value ...] [--search]
                                               create a customer, vendor or bank account from a contact
  create-contact <kind> <accountId> [--search] create a company contact from an account
  match [--kind K ...] [--min-score N] --dry-run | --apply
                                               propose (default) or link pairs of unlinked records
  first-sync [--dry-run] [--kind K ...] [--min-score N]
                                               match and link every unlinked contact and account as
                                               a resumable background run; --dry-run only counts
  interactions <contactId>                     a contact's interaction log
  interaction add <contactId> --type T --description D [--date ISO] [--who W]
                                               record an interaction
  document <contactId> <salesQuote|salesOrder|purchaseQuote|purchaseOrder>
                                               start a quote or order for the linked customer or vendor
  audit [--contact ID] [--kind K] [--account ID] [--relation ID] [--field F]
        [--from ISO] [--to ISO] [--limit N]    the audit log; K is an account kind or an entry
                                               kind (fieldChange, conflict, link, unlink, create, delete)

options:
  --url URL        the daemon (default: $TANDEM_URL or http://127.0.0.1:8080)
  --token TOKEN    an admin or viewer token (default: $TANDEM_TOKEN)
  --json           print the API's JSON instead of tables
  --config FILE    the config file for start and config validate
                   (default: $TANDEM_CONFIG or config/tandem.yaml)
  --idempotency-key KEY
                   for create-account, create-contact and document: repeating the command
                   with the same key returns the first result
  --search         for link, create-account and create-contact: the contact and account
                   arguments are texts to search for; one match is taken, several are
                   listed to pick from at a terminal (elsewhere the command stops, exit 2)
  -h, --help       this text

exit codes:
  0  ok
  1  unexpected failure
  2  usage error, invalid config, or input the daemon refused (400)
  3  Redis unreachable (start) or the daemon unreachable
  4  not found (404), or --search found no record
  5  conflict (409), e.g. the contact already has a relation of that kind;
     match --apply, first-sync: some pairs could not be linked
  6  unauthorized or forbidden (401, 403): no token, a wrong one, or a viewer token for a change
  7  the CRM or the accounting system failed (502)
`;
