"""The directives by the kind of value they have, for mypy: `Config.get` of a
name listed here has that type (typing.Literal groups). The directive table
(config/table.py) is the truth; tests/test_config_typed.py fails when the two
disagree (a directive added there must be added here, in its group).
"""

from __future__ import annotations

from typing import Literal

#: text with a default: always a str
Text = Literal[
    "storagebackend",
    "storagename",
    "accountingservice",
    "logger",
    "smtpserver",
    "admin",
    "adminmail",
    "mailto",
    "poorwarn",
    "softwarn",
    "hardwarn",
    "balancewarn",
    "usernamecase",
    "policy",
    "printauth",
    "enforcement",
    "currency",
    "unknown_billingcode",
    "accounter",
    "preaccounter",
    "onaccountererror",
    "onbackenderror",
    "onstoreerror",
    "onjournalerror",
    "trustjobsize",
    "snmperrormask",
    "accountbanner",
    "avoidduplicatebanners",
    "directory",
    "notifierservice",
    "notifierlisten",
    "clientconfirm",
    "clientconfirmdefault",
    "clientbillingcode",
    "syncsource",
    "syncexclude",
    "synclimitby",
    "syncprinters",
    "syncleavers",
    "synckeep",
    "syncldapstyle",
    "invoicesitename",
    "invoicesiteaddress",
    "invoiceunit",
    "webhost",
    "webauth",
    "webuserheader",
    "webproxies",
    "webadmins",
    "webreadonlyadmins",
    "webpamservice",
    "webstore",
]

#: text without a default: None when not set
OptionalText = Literal[
    "storageserver",
    "storageuser",
    "storageuserpw",
    "storageadmin",
    "storageadminpw",
    "readstorageserver",
    "readstoragebackend",
    "readstoragename",
    "readstorageuser",
    "readstorageuserpw",
    "userbase",
    "userrdn",
    "balancebase",
    "balancerdn",
    "groupbase",
    "grouprdn",
    "groupmembers",
    "usermail",
    "printerbase",
    "printerrdn",
    "jobbase",
    "lastjobbase",
    "billingcodebase",
    "userquotabase",
    "groupquotabase",
    "paymentbase",
    "newuser",
    "newgroup",
    "maildomain",
    "crashrecipient",
    "winbind_separator",
    "physicalprinter",
    "startingbanner",
    "endingbanner",
    "striptitle",
    "overwrite_jobticket",
    "askconfirmation",
    "notifiercert",
    "notifierkey",
    "clientbillingcodes",
    "clientbillingcodedefault",
    "prehook",
    "posthook",
    "syncldapuri",
    "syncldapbinddn",
    "syncldapbindpw",
    "syncldapuserbase",
    "syncldapuserfilter",
    "syncldapuserattr",
    "syncldapmailattr",
    "syncldapgroupbase",
    "syncldapgroupfilter",
    "syncldapgroupattr",
    "syncldapmemberattr",
    "websecret",
    "webstorepw",
    "webldapuri",
    "webldapdn",
]

#: yes/no
Flag = Literal[
    "disablehistory",
    "privacy",
    "debug",
    "utolower",
    "skipinitialwait",
    "printcancelledbanners",
    "keepfiles",
    "clientpin",
    "clientnotices",
    "syncgroups",
    "syncemptygroups",
    "webserve",
    "websecurecookie",
]

#: whole numbers with a default
Whole = Literal[
    "printauthmaxfailures",
    "printauthlockout",
    "gracedelay",
    "duplicatesdelay",
    "maxdenybanners",
    "noprintingmaxdelay",
    "errormaxdelay",
    "unreachablemaxdelay",
    "statusstabilizationloops",
    "notifiermaxclients",
    "clienttimeout",
    "syncuidmin",
    "syncgidmin",
    "syncmaxleavers",
    "webport",
    "websessionminutes",
    "webloginattempts",
    "webquotelimit",
]

#: whole numbers without a default: None when not set
OptionalWhole = Literal[
    "syncuidmax",
    "syncgidmax",
    "syncsoftlimit",
    "synchardlimit",
]

#: Decimal amounts
Amount = Literal[
    "poorman",
    "balancezero",
    "syncbalance",
    "invoicevat",
    "sheetgrams",
    "sheetcarbongrams",
]

#: a float
Real = Literal["statusstabilizationdelay",]

#: dates (termstarts)
Dates = Literal["termstarts",]

#: yes/no, or the text of a command that decides
BoolOrCommand = Literal["denyduplicates",]
